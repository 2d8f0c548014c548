"""admin_loop_hold_ms / admin_loop_cpu_ms (/stats totals) and berth_admin_loop_*_seconds (/metrics): how long admin
work held the loop, counted for admin callbacks only, never for proxied requests."""
from berthkit import admin, stats
from admin_helpers import SLOW_FLAGS, proxied
from prometheus_client.parser import text_string_to_metric_families


def _holds(berth):
    t = stats(berth)["totals"]
    return t["admin_loop_hold_ms"], t["admin_loop_cpu_ms"]


def test_admin_work_is_counted_and_proxied_requests_are_not(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    wall, cpu = _holds(berth)
    # The first /stats is counted once its callbacks have run: the second one sees them.
    wall, cpu = _holds(berth)
    assert wall["count"] > 0 and cpu["count"] == wall["count"]
    assert 0 < wall["max"] and 0 <= cpu["max"]
    # max is exact; p99 is the upper bound of a bucket, so at or above every observation but the top 1%.
    assert wall["p99"] is not None and cpu["max"] <= wall["max"] + 0.05
    # What one /stats adds, with nothing else going on.
    before = wall["count"]
    wall, _ = _holds(berth)
    per_read = wall["count"] - before
    assert per_read > 0
    # Fifty proxied requests, then a read: only the reads' own callbacks were added, none per proxied request.
    for _ in range(50):
        assert proxied(berth, origin).status_code == 200
    before = wall["count"]
    wall, cpu = _holds(berth)
    assert wall["count"] - before == per_read, (before, wall, per_read)
    assert cpu["count"] == wall["count"]


def test_metrics_exports_the_holds(start_berth):
    berth = start_berth(*SLOW_FLAGS)
    admin(berth, "GET", "/stats")
    text = admin(berth, "GET", "/metrics").text
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ("berth_admin_loop_hold_seconds", "berth_admin_loop_cpu_seconds"):
        assert fams[name].type == "histogram", name
        count = [s.value for s in fams[name].samples if s.name == name + "_count"]
        assert count and count[0] > 0, name
        assert all("upstream" not in s.labels for s in fams[name].samples), name
