"""libevent's epoll_wait binds to berth's own (CLoopPolls), which counts the loop's passes for item 146's read."""
# Were the export lost (a linker flag dropped, a stripped dynamic table), libevent would call glibc's epoll_wait, no
# pass would end, and every checkout would read its connection once more: nothing a behaviour test sees, only a
# recv per request (h-perf5 in docs/performance.md). glibc's loader says where each symbol bound.
import os
import subprocess

from berthkit import BERTH_BIN


def test_libevent_polls_through_berths_epoll_wait():
    env = dict(os.environ, LD_DEBUG="bindings")
    run = subprocess.run([BERTH_BIN, "--help"], env=env, capture_output=True, text=True, timeout=30)
    bindings = [line for line in run.stderr.splitlines() if "`epoll_wait'" in line and "libevent" in line]
    assert bindings, "libevent's epoll_wait binding was not reported"
    target = os.path.basename(BERTH_BIN)
    assert all(f"to {BERTH_BIN} " in line or f"/{target} " in line for line in bindings), bindings
