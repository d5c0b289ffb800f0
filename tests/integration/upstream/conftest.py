from __future__ import annotations

import pytest

from tests.harness.fake_upstream import FakeUpstream


@pytest.fixture
def upstream():
    fake = FakeUpstream().start()
    yield fake
    fake.stop()
