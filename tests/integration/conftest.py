"""Fixtures for berth's integration tests; the helpers themselves live in berth_helpers.py."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def berth(start_berth):
    """Like start_berth, but prints each instance's stderr at teardown (shown by pytest when a test fails)."""
    made = []

    def make(*flags, **kw):
        b = start_berth(*flags, **kw)
        made.append(b)
        return b

    yield make
    for b in made:
        lines = b.stderr_text().splitlines()
        print(f"---- berth {b.args[1:]} stderr (last 80 of {len(lines)} lines) ----")
        print("\n".join(lines[-80:]))
