"""A bounded table of destinations (issue 23 item 12): past max-upstreams berth forgets the least recently used
upstream it can (no connections, no waiters, not paused, not watched), or answers 503 too-many-upstreams, so a
flood of distinct destinations costs bounded memory and /stats stays bounded in size."""

from berthkit import RawClient, admin, admin_json, get_req
from bounds_helpers import proc_status


def _refused_destinations(count):
    """`count` distinct loopback destinations that refuse at once: 127.0.0.x on a port nothing listens on."""
    return [f"127.0.{2 + i // 250}.{1 + i % 250}:9" for i in range(count)]


def _send_each(b, destinations):
    """One request to each destination over one keep-alive caller; the causes of berth's answers, counted."""
    c = RawClient(b.proxy, timeout=30)
    causes = {}
    try:
        for d in destinations:
            r = c.request(get_req(d, "/"))
            cause = r.header("Berth-Error")
            causes[cause] = causes.get(cause, 0) + 1
    finally:
        c.close()
    return causes


def _stats_size(b):
    r = admin(b, "GET", "/stats", timeout=30)
    assert r.status == 200, r.status
    return len(r.content)


def test_a_flood_of_distinct_destinations_keeps_the_table_at_max_upstreams(berth, origin):
    b = berth("--max-upstreams", "100")
    rss_before = proc_status(b.proc.pid, "VmRSS")
    causes = _send_each(b, _refused_destinations(1000))
    assert causes == {"connect-refused": 1000}, causes
    stats = admin_json(b, "GET", "/stats")
    assert stats["totals"]["upstreams"] <= 100, stats["totals"]["upstreams"]
    assert len(stats["upstreams"]) <= 100
    assert _stats_size(b) < 100 * 4096
    # The forgotten upstreams' failures stay in the totals.
    assert stats["totals"]["errors"]["connect-refused"] == 1000
    grown_mib = (proc_status(b.proc.pid, "VmRSS") - rss_before) / 1024
    assert grown_mib < 20, f"RSS grew {grown_mib:.1f} MiB for 1,000 refused destinations"
    r = RawClient(b.proxy).request(get_req(origin.hostport, "/live"))
    assert r.status == 200 and r.body == b"hello /live", r


def test_the_default_cap_bounds_a_flood_past_ten_thousand_destinations(berth, origin):
    b = berth()
    _send_each(b, _refused_destinations(11000))
    stats = admin_json(b, "GET", "/stats")
    assert stats["totals"]["upstreams"] <= 10000, stats["totals"]["upstreams"]
    r = RawClient(b.proxy).request(get_req(origin.hostport, "/live"))
    assert r.status == 200, r


def test_when_no_upstream_can_be_forgotten_a_new_one_gets_503_too_many_upstreams(berth, origin):
    b = berth("--max-upstreams", "2")
    paused = _refused_destinations(2)
    for u in paused:
        admin_json(b, "POST", f"/pause?upstream={u}&mode=reject")
    r = RawClient(b.proxy).request(get_req(origin.hostport, "/third"))
    assert r.status == 503 and r.header("Berth-Error") == "too-many-upstreams", r
    assert b"max-upstreams" in r.body, r.body
    assert origin.requests == []
    # Once one of them is resumed it may be forgotten, and the new upstream is served.
    admin_json(b, "POST", f"/resume?upstream={paused[0]}")
    r = RawClient(b.proxy).request(get_req(origin.hostport, "/third"))
    assert r.status == 200, r
    known = {u["upstream"] for u in admin_json(b, "GET", "/stats")["upstreams"]}
    assert known == {paused[1], origin.hostport}, known
