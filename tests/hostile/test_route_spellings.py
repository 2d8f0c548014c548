"""One upstream however a request spells it, and the targets berth refuses (review of the walk's routing changes).

The walk (f272fdf..55c5d8e) parsed an absolute-form target's scheme once instead of twice and let
`poolForRequest(routed: true)` take the key `RouteTarget.key` made without resolving it again. Both are only safe if
every spelling of one upstream (case, absolute-form or Host) still meets the same allowlist entry and the same pool
(a trailing dot makes the name absolute: an upstream of its own under the same allow rule), and a target berth does not proxy is still refused before any pool exists. The pool is shown to be one by
--max-upstreams 1 with its connection idle in it: a second entry could be made only by forgetting that pool, which
has a connection, so a spelling that missed it would be 503 too-many-upstreams."""
import pytest

from berthkit import RawClient, keepalive_loop, stats, upstream_stats, wait_upstream


def _request(b, target, host):
    """One GET with `target` and `Host: host` on a fresh caller connection; the response."""
    c = RawClient(b.proxy, timeout=15)
    try:
        c.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        return c.read_response()
    finally:
        c.close()


@pytest.mark.parametrize("target,host", [
    ("/b", "LOCALHOST:{p}"),
    ("http://LocalHost:{p}/b", "ignored.invalid"),
    ("HTTP://localhost:{p}/b", "localhost:{p}"),
])
def test_every_spelling_of_one_upstream_meets_its_allow_rule_and_its_one_pool(berth, raw_origin, target, host):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"ok:" + msg.target.encode())))
    b = berth("--workers", "1", "--max-upstreams", "1", "--allow", "localhost")
    canonical = f"localhost:{o.port}"
    r = _request(b, "/a", canonical)
    assert r.status == 200 and r.body == b"ok:/a", r
    wait_upstream(b, canonical, lambda u: u["idle"] == 1, what="the first request's connection, idle")
    r = _request(b, target.format(p=o.port), host.format(p=o.port))
    assert r.status == 200 and r.body.startswith(b"ok:"), r
    up = upstream_stats(b, canonical)
    assert up["requests"] == 2, up
    assert [u["upstream"] for u in stats(b)["upstreams"]] == [canonical]


@pytest.mark.parametrize("target,host", [
    ("/b", "LOCALHOST.:{p}"),
    ("/b", "localhost.:{p}"),
    ("http://LocalHost.:{p}/b", "ignored.invalid"),
])
def test_an_absolute_spelling_meets_the_allow_rule_as_an_upstream_of_its_own(berth, raw_origin, target, host):
    # A trailing dot makes the name absolute (no search domain applies), so it may reach another host than the
    # relative name: its own upstream (docs/reliability.md 26), under the same allow rule, and the admin commands
    # naming either spelling act on both (33).
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"ok:" + msg.target.encode())))
    b = berth("--workers", "1", "--max-upstreams", "2", "--allow", "localhost")
    canonical = f"localhost:{o.port}"
    assert _request(b, "/a", canonical).status == 200
    r = _request(b, target.format(p=o.port), host.format(p=o.port))
    assert r.status == 200 and r.body.startswith(b"ok:"), r
    assert sorted(u["upstream"] for u in stats(b)["upstreams"]) == sorted([canonical, f"localhost.:{o.port}"])


def test_a_name_outside_the_allowlist_is_refused_in_every_spelling(berth, raw_origin):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"ok")))
    b = berth("--workers", "1", "--allow", "localhost")
    for target, host in [("/", f"127.0.0.1:{o.port}"), (f"http://127.0.0.1.:{o.port}/", "localhost"),
                         (f"https://127.0.0.1:{o.port}/", "localhost")]:
        r = _request(b, target, host)
        assert r.status == 403 and r.header("Berth-Error") == "destination-denied", (target, r)
    assert stats(b)["upstreams"] == []
    assert o.requests == []


@pytest.mark.parametrize("target", ["ftp://localhost:{p}/file", "ws://localhost:{p}/socket", "http:///x",
                                    "https:///x"])
def test_a_target_without_an_http_scheme_or_an_authority_is_refused_before_routing(berth, raw_origin, target):
    # The codec refuses it (400 invalid-target), so routing's own 501 guard for such a target, the one the walk
    # reordered, is never reached: no pool is made and nothing goes upstream either way.
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"ok")))
    b = berth("--workers", "1")
    r = _request(b, target.format(p=o.port), f"localhost:{o.port}")
    assert r.status == 400 and r.header("Berth-Error") == "bad-request", r
    assert stats(b)["upstreams"] == []
    assert o.requests == []
