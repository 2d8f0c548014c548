"""The invoker simulation of issue 13, short: two action containers in cgroups of their own, frozen and thawed
between bursts of POST /run activations, through berth in four modes and directly (tests/berthkit/invoker_sim.py).
The long run is bench/invoker; its table is in docs/reliability.md."""
import pytest

from berthkit.cgroup_helpers import cgroup2_root
from e2e_helpers import FIGURES, scale
from berthkit.invoker_sim import Params, run_mode

PARAMS = Params(containers=2, cycles=scale(6, 40), burst=5, keepalive_ms=200, frozen_s=0.3)


@pytest.fixture
def cgroup_root():
    root, why = cgroup2_root()
    if root is None:
        pytest.skip(f"needs a writable cgroup v2 mount: {why}")
    return root


def _run(mode, berth, cgroup_root):
    result = run_mode(mode, PARAMS, cgroup_root, berth, berth.binary)
    if "skipped" in result:
        pytest.skip(result["skipped"])
    FIGURES.put(f"invoker_{mode}", {k: v for k, v in result.items() if k != "records"})
    assert result["activations"] == PARAMS.containers * PARAMS.cycles * PARAMS.burst
    return result


# One new upstream connection per thaw: the first burst reuses the warm-up's.
PER_THAW = (PARAMS.cycles - 1) / (PARAMS.cycles * PARAMS.burst)


@pytest.mark.parametrize("mode", ["a", "b", "c"])
def test_freeze_safe_modes_lose_no_activation(mode, berth, cgroup_root):
    """(a) /pause and /resume, (b) the freezer watch alone, (c) --replay unread: no activation fails, and after
    every thaw the first activation went out on a connection opened after it (one per burst)."""
    r = _run(mode, berth, cgroup_root)
    assert r["failed"] == 0, r
    assert r["connections_per_activation"] == pytest.approx(PER_THAW, abs=0.001), r
    if mode == "a":
        assert r["berth"]["pauses"]["api"] == r["freezes"], r
    if mode == "b":
        # The watch alone paused and resumed each container at every freeze and thaw. It may pause once more than
        # that: the kernel sends cgroup.events notifications from a work queue, so the one for the container's
        # move into its cgroup can arrive after the watch began, and a notification that changes nothing is taken
        # for a freeze and thaw folded into one (FreezerTracker): a pause and a resume with nothing pooled.
        pauses = r["berth"]["pauses"]
        assert pauses["api"] == 0 and pauses["both"] == 0, r
        assert r["freezes"] <= pauses["watch"] <= r["freezes"] + PARAMS.containers, r
        assert r["berth"]["resumes"] == pauses["watch"], r
        assert r["freezes"] <= r["berth"]["closed"].get("paused", 0) <= r["freezes"] + PARAMS.containers, r


def test_control_meets_the_stale_connections(berth, cgroup_root):
    """(d) no calls, defaults: a thaw leaves berth a pooled connection the server has timed out. berth sees the
    server's close first (peer-closed-idle), or loses the race and the POST fails (502 upstream-reset: a POST with a
    body is not retried), or, when the thawed server reads the request before it runs its overdue timer, the
    connection lives on. Which one happens is timing; that most thaws meet a dead connection is the hazard the
    other modes remove."""
    r = _run("d", berth, cgroup_root)
    stale = r["berth"]["closed"].get("peer-closed-idle", 0) + r["failed"]
    thaws = r["freezes"] - PARAMS.containers
    assert stale >= thaws / 2, r
    assert set(r["failures_by_cause"]) <= {"upstream-reset"}, r


def test_direct_connections_open_one_per_activation(berth, cgroup_root):
    """(e) no berth: one new connection per activation, none failed."""
    r = _run("e", berth, cgroup_root)
    assert r["failed"] == 0, r
    assert r["connections_per_activation"] == 1.0, r
