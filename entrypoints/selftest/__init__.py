"""``orchard selftest``: an end-to-end check of a running Orchard with the tools a user has
(the legacy upload API, pip, ``import``), built from the standard library so that it runs
from the Orchard image alone, in a cluster with no network beyond itself."""
