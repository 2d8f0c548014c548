"""Fixtures for the operator-side tests (status page, berth ctl, Prometheus, Grafana, browser)."""
import pytest

from ops_helpers import SLOW_FLAGS, TOKEN


@pytest.fixture
def token_file(tmp_path):
    """An admin token file with surrounding whitespace, which berth and berth ctl both trim."""
    p = tmp_path / "admin-token"
    p.write_text(f"  {TOKEN}  \n")
    p.chmod(0o600)  # berth refuses a token file its group or others may read
    return str(p)


@pytest.fixture
def slow_berth(berth):
    """Factory: a berth with generous timeouts (extra flags appended)."""
    def make(*flags, **kw):
        return berth(*SLOW_FLAGS, *flags, **kw)
    return make
