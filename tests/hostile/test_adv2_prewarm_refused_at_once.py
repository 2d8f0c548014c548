"""/resume?prewarm=N to an upstream whose connect fails inside connect(2) (a multicast address, berth's own listener) starts nothing, says so, and tries once, not N times."""
from berthkit import admin_json, upstream_stats


def test_prewarm_to_a_multicast_address_reports_none_started(berth):
    b = berth("--max-per-route", "10", "--max-total", "20")
    r = admin_json(b, "POST", "/resume?upstream=224.0.0.1:80&prewarm=10000")
    # Before: 10,000 "started" (each failed connect freed its slot before the next took it), past max-per-route.
    assert r["prewarmed"] == 0, r
    up = upstream_stats(b, "224.0.0.1:80")
    assert up["open"] == 0 and up["connecting"] == 0, up


def test_prewarm_to_berths_own_listener_reports_none_started(berth):
    b = berth("--max-per-route", "10", "--max-total", "20")
    own = f"127.0.0.1:{b.proxy[1]}"
    r = admin_json(b, "POST", f"/resume?upstream={own}&prewarm=10000")
    assert r["prewarmed"] == 0, r
    # The proxy still serves: nothing was left connecting or counted against the limits.
    up = upstream_stats(b, own)
    assert up["open"] == 0 and up["connecting"] == 0, up
