"""/evict (all, one, idle_for, forget) and the error rules: 404, 405, 400 for malformed input."""
import time

import pytest

from berthkit import Origin, admin, admin_json, stats, upstream_stats, wait_for
from admin_helpers import NO_POOL, SLOW_FLAGS, Background, established_to_port, proxied


@pytest.fixture
def origin_b():
    o = Origin()
    yield o
    o.close()


def _idle_one(berth, origin):
    assert proxied(berth, origin).status_code == 200
    assert wait_for(lambda: upstream_stats(berth, origin.hostport)["idle"] == 1)


def test_evict_one_then_all(start_berth, origin, origin_b):
    berth = start_berth(*SLOW_FLAGS)
    _idle_one(berth, origin)
    _idle_one(berth, origin_b)
    ans = admin_json(berth, "POST", f"/evict?upstream={origin.hostport}")
    assert ans == {"closed": 1, "upstream": origin.hostport, "forgotten": False, "forget_pending": False}
    # The answer is written before the evicted sockets are closed (api.md, /pause: "closed right after"), so the
    # close(2) may land a moment after the answer: wait for it rather than read the socket table at once.
    wait_for(lambda: established_to_port(origin.port) == [], what="the evicted connection to origin closed")
    assert len(established_to_port(origin_b.port)) == 1
    assert upstream_stats(berth, origin.hostport)["connections"]["closed"]["evicted"] == 1
    assert upstream_stats(berth, origin_b.hostport)["idle"] == 1
    assert admin_json(berth, "POST", "/evict") == {"closed": 1}
    wait_for(lambda: established_to_port(origin_b.port) == [], what="the evicted connection to origin_b closed")
    assert stats(berth)["totals"]["idle"] == 0
    assert admin_json(berth, "POST", "/evict") == {"closed": 0}


def test_evict_idle_for(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    _idle_one(berth, origin)
    assert admin_json(berth, "POST", "/evict?idle_for=10s")["closed"] == 0
    assert admin_json(berth, "POST", f"/evict?upstream={origin.hostport}&idle_for=10s")["closed"] == 0
    time.sleep(0.35)
    assert admin_json(berth, "POST", f"/evict?upstream={origin.hostport}&idle_for=250ms")["closed"] == 1
    assert upstream_stats(berth, origin.hostport)["idle"] == 0


def test_evict_leaves_busy_connections(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    bg = Background(berth, origin, "/sleep/0.6")
    assert wait_for(lambda: (upstream_stats(berth, origin.hostport) or NO_POOL)["busy"] == 1)
    assert admin_json(berth, "POST", "/evict")["closed"] == 0
    ans = admin_json(berth, "POST", f"/evict?upstream={origin.hostport}&forget=true")
    assert ans["forgotten"] is False and ans["forget_pending"] is True
    assert bg.response().status_code == 200
    # The busy connection finished its request, was closed instead of pooled, and the entry went with it.
    assert wait_for(lambda: admin(berth, "GET", f"/stats?upstream={origin.hostport}").status_code == 404)
    assert stats(berth)["totals"]["connections"]["closed"]["evicted"] == 1


def test_evict_forget_drops_entry_keeps_totals(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    _idle_one(berth, origin)
    ans = admin_json(berth, "POST", f"/evict?upstream={origin.hostport}&forget=true")
    assert ans == {"closed": 1, "upstream": origin.hostport, "forgotten": True, "forget_pending": False}
    admin_json(berth, "GET", f"/stats?upstream={origin.hostport}", status=404)
    doc = stats(berth)
    assert doc["upstreams"] == [] and doc["totals"]["upstreams"] == 0
    assert doc["totals"]["requests"] == 1
    assert doc["totals"]["connections"]["closed"]["evicted"] == 1
    # Unknown upstream: nothing closed, nothing forgotten.
    assert admin_json(berth, "POST", "/evict?upstream=127.0.0.1:9&forget=1") == {"closed": 0, "upstream": "127.0.0.1:9", "forgotten": False, "forget_pending": False}


def test_unknown_path_404(start_berth):
    berth = start_berth()
    for method, path in [("GET", "/index.html"), ("GET", "/nope"), ("POST", "/nope"), ("GET", "/stats/"), ("GET", "/Stats")]:
        body = admin_json(berth, method, path, status=404)
        assert body["status"] == 404 and body["error"]


@pytest.mark.parametrize("method,path,allow", [
    ("GET", "/pause?upstream=127.0.0.1:9", "POST"),
    ("PUT", "/resume?upstream=127.0.0.1:9", "POST"),
    ("DELETE", "/evict", "POST"),
    ("POST", "/stats", "GET, HEAD"),
    ("PUT", "/metrics", "GET, HEAD"),
    ("POST", "/healthz", "GET, HEAD"),
    ("DELETE", "/readyz", "GET, HEAD"),
])
def test_wrong_method_405(start_berth, method, path, allow):
    berth = start_berth()
    r = admin(berth, method, path)
    assert r.status_code == 405, r.text
    assert r.headers["Allow"] == allow
    assert r.json()["status"] == 405


def test_get_pause_does_not_pause(start_berth):
    berth = start_berth()
    admin(berth, "GET", "/pause?upstream=127.0.0.1:9")
    assert stats(berth)["upstreams"] == []


BAD_UPSTREAMS = ["127.0.0.1", "127.0.0.1:0", "foo%20bar:1", "foo+bar:1", "%5B::1", "[::1", "127.0.0.1:65536",
                 "127.0.0.1:", ":80", "", "::1:80", "host:port", "127.0.0.1:-1", "127.0.0.1:123456", "a@b:80"]


@pytest.mark.parametrize("endpoint", ["POST /pause", "POST /resume", "POST /evict", "GET /stats"])
def test_malformed_upstream_400(start_berth, endpoint):
    berth = start_berth()
    method, path = endpoint.split()
    for bad in BAD_UPSTREAMS:
        r = admin(berth, method, f"{path}?upstream={bad}")
        assert r.status_code == 400, (endpoint, bad, r.status_code, r.text)
        assert r.json()["status"] == 400
    assert stats(berth)["upstreams"] == []


@pytest.mark.parametrize("method,path", [
    ("POST", "/pause"),
    ("POST", "/resume"),
    ("POST", "/pause?upstream=127.0.0.1:9&bogus=1"),
    ("POST", "/pause?upstream=127.0.0.1:9&Upstream=127.0.0.1:9"),
    ("POST", "/pause?upstream=127.0.0.1:9&upstream=127.0.0.1:9"),
    ("POST", "/pause?upstream=127.0.0.1:9&drain=5"),
    ("POST", "/pause?upstream=127.0.0.1:9&drain=0s"),
    ("POST", "/pause?upstream=127.0.0.1:9&drain=25h"),
    ("POST", "/pause?upstream=127.0.0.1:9&hold=1.s"),
    ("POST", "/pause?upstream=127.0.0.1:9&mode=drop"),
    ("POST", "/pause?upstream=127.0.0.1:9&mode=reject&hold=1s"),
    ("POST", "/pause?upstream=127.0.0.1:9&prewarm=1"),
    ("POST", "/resume?upstream=127.0.0.1:9&prewarm=-1"),
    ("POST", "/resume?upstream=127.0.0.1:9&prewarm=10001"),
    ("POST", "/resume?upstream=127.0.0.1:9&prewarm=two"),
    ("POST", "/resume?upstream=127.0.0.1:9&drain=1s"),
    ("POST", "/evict?forget=true"),
    ("POST", "/evict?upstream=127.0.0.1:9&forget=yes"),
    ("POST", "/evict?idle_for=soon"),
    ("POST", "/evict?mode=reject"),
    ("POST", "/pause?upstream=127.0.0.1%ZZ9"),
    ("GET", "/stats?foo=1"),
    ("GET", "/stats?upstream"),
    ("GET", "/metrics?upstream=127.0.0.1:9"),
    ("GET", "/metrics?x"),
])
def test_bad_parameters_400(start_berth, method, path):
    berth = start_berth()
    body = admin_json(berth, method, path, status=400)
    assert body["status"] == 400 and body["error"]


@pytest.mark.parametrize("path", [
    "/pause?upstream=127.0.0.1:9&drain=999999999h",
    "/pause?upstream=127.0.0.1:9&hold=999999999h",
    "/evict?idle_for=999999999h",
    "/pause?upstream=127.0.0.1:9&drain=999999999m",
])
def test_oversized_duration_is_400_not_a_crash(start_berth, path):
    berth = start_berth()
    try:
        r = admin(berth, "POST", path, timeout=5)
        status = r.status_code
    except Exception as e:  # connection reset when berth dies
        status = repr(e)
    time.sleep(0.2)
    crash = [l.strip() for l in berth.stderr_text().splitlines() if "runtime failure" in l or "DurationText" in l][:3]
    assert berth.proc.poll() is None, f"berth exited ({berth.proc.returncode}) on POST {path}: {crash}"
    assert status == 400


def test_health(start_berth):
    berth = start_berth()
    assert admin_json(berth, "GET", "/healthz") == {"status": "ok"}
    assert admin_json(berth, "GET", "/readyz") == {"status": "ok"}
    r = admin(berth, "HEAD", "/healthz")
    assert r.status_code == 200 and r.content == b""
