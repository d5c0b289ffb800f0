"""Release listings kept per worker process, keyed by (package id, serial).

A Python package's page groups and orders every live file of the package (500 files are
500 rows to read and sort) to show ten releases. The listing changes only when the
package's serial does (every upload, yank and delete advances it), so a listing read
under the same key is still right, on every instance; the serial itself is read with
the package row each request. Bounded by entries; the least recently used goes first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping

from flask import current_app

from domain.services.browse import ListingKey, ReleaseListing

LISTINGS = "orchard.web.listings"


def listings() -> Listings:
    """This app's listings (one per app: ids and serials belong to its database)."""
    return current_app.extensions.setdefault(LISTINGS, Listings())


class Listings(MutableMapping[ListingKey, ReleaseListing]):
    def __init__(self, max_entries: int = 32) -> None:
        self._max = max_entries
        self._items: OrderedDict[ListingKey, ReleaseListing] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, key: ListingKey) -> ReleaseListing:
        with self._lock:
            value = self._items[key]
            self._items.move_to_end(key)
            return value

    def __setitem__(self, key: ListingKey, value: ReleaseListing) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def __delitem__(self, key: ListingKey) -> None:
        with self._lock:
            del self._items[key]

    def __iter__(self) -> Iterator[ListingKey]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)
