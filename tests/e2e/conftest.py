"""Fixtures for berth's end-to-end reliability suite. Long variants run with BERTH_E2E_LONG=1 (see
docs/reliability.md); figures from the run go to tests/e2e/last-run.json."""
import os
import resource
import time

import pytest

from berthkit.cgroup_helpers import CgroupTree, cgroup2_root, freezer_v1_root
from berthkit import closing_factory, stats
from e2e_helpers import FIGURES, LONG, node_upstream, python_upstream

_STARTED = time.time()
_OUTCOME = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_configure(config):
    config.addinivalue_line("markers", "long: only in the long run (BERTH_E2E_LONG=1)")
    # 10,000 idle callers need fds in this process and in berth, which inherits the limit when spawned.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def pytest_collection_modifyitems(config, items):
    if LONG:
        return
    skip = pytest.mark.skip(reason="long variant: run with BERTH_E2E_LONG=1")
    for item in items:
        if "long" in item.keywords and "tests/e2e" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


def pytest_runtest_logreport(report):
    if "e2e" not in report.nodeid:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome in ("failed", "skipped")):
        _OUTCOME[report.outcome] = _OUTCOME.get(report.outcome, 0) + 1


def pytest_sessionfinish(session, exitstatus):
    if sum(_OUTCOME.values()) == 0:
        return
    path = os.environ.get("BERTH_E2E_FIGURES") or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                               "last-run.json")
    FIGURES.dump(path, _STARTED, dict(_OUTCOME))


@pytest.fixture
def berth(berth):
    """The shared berth fixture (tests/conftest.py), plus a check at teardown that each berth is alive and settled."""
    yield berth
    unsettled = []
    for b in berth.made:  # cross-cutting invariant: once a test is over, nothing is left busy, pending or connecting
        if b.proc.poll() is not None:
            continue
        deadline = time.monotonic() + 10
        while True:
            try:
                t = stats(b)["totals"]
            except OSError as e:
                t = {"error": repr(e)}
            if t.get("busy") == 0 and t.get("pending") == 0 and t.get("connecting") == 0:
                break
            if time.monotonic() > deadline:
                unsettled.append({k: t.get(k) for k in ("busy", "pending", "connecting", "open", "callers")})
                break
            time.sleep(0.05)
    for b in berth.made:
        assert b.proc.poll() is None, f"berth exited with {b.proc.returncode} during the test"
    assert unsettled == [], f"/stats totals not settled 10 s after the test: {unsettled}"


@pytest.fixture
def upstreams():
    """Factory for frozen-able origin processes: upstreams('node', keepalive_ms) / upstreams('python', ka_s)."""
    def make(kind, *args):
        return node_upstream(*args) if kind == "node" else python_upstream(*args)

    yield from closing_factory(make, close=lambda u: u.stop())


@pytest.fixture
def cgroup2():
    """A directory of cgroups (v2) for one test, removed at teardown; skips, saying why, without a writable cgroup2."""
    root, why = cgroup2_root()
    if root is None:
        pytest.skip(f"needs a writable cgroup v2 mount: {why}")
    tree = CgroupTree(root, 2)
    yield tree
    tree.close()


@pytest.fixture
def cgroup1_freezer():
    """The same on a cgroup v1 freezer hierarchy."""
    root, why = freezer_v1_root()
    if root is None:
        pytest.skip(f"needs a writable cgroup v1 freezer mount: {why}")
    tree = CgroupTree(root, 1)
    yield tree
    tree.close()
