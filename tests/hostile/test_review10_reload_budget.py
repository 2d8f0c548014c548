"""Review 10: `max-callers auto` worked out again on SIGHUP is for the workers that run. A reload keeps the worker
count (a new one needs a restart), so a file that now names another count must not change the descriptor budget:
worked out for 1 worker where 4 run, it left out 3 x (8 + 16) descriptors of berth's own (item 61's callers waiting
for room among them), and callers could take them."""
import re
import signal
import socket

from berthkit import stats, wait_for


def _started_max_callers(b):
    line = b.wait_log("berth started")[0]
    return int(re.search(r"max_callers=(\d+)", line).group(1))


def test_a_reload_naming_another_worker_count_keeps_the_budget_of_the_workers_that_run(start_berth, tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("workers: 4\nmax-total: 20\nmax-per-route: 20\n")
    wrapper = ("sh", "-c", 'ulimit -n 300 && exec "$@"', "sh")
    b = start_berth("--config", str(config), wrapper=wrapper)
    limit = _started_max_callers(b)
    # 300 less max-total (20), the admin's 16 and berth's own with 4 workers (32 + 8 x 4 + 16 x 4).
    assert limit == 300 - 20 - 16 - (32 + 8 * 4 + 16 * 4), limit
    config.write_text("workers: 1\nmax-total: 20\nmax-per-route: 20\n")
    b.proc.send_signal(signal.SIGHUP)
    b.wait_log("need a restart")
    held = []
    try:
        for _ in range(limit + 60):
            s = socket.create_connection(b.proxy, timeout=5)
            held.append(s)
        # Past the limit each new caller closes an idle one (or is refused): the gauge never passes max-callers.
        wait_for(lambda: stats(b)["totals"]["callers_accepted"] >= limit, timeout=10, what="the callers accepted")
        callers = stats(b)["totals"]["callers"]
        assert callers <= limit, (callers, limit)
    finally:
        for s in held:
            s.close()
