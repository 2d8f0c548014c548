"""Generations (issue 20 item 4): a caller names the container behind an address with Berth-Generation; a new one
never reuses an older one's connections, and a replaced one arriving late is refused (409 stale-generation)."""
import threading

from berthkit import RawClient, get_req, raw_request, upstream_stats, wait_upstream


def gen(token):
    return f"Berth-Generation: {token}\r\n".encode()


def closed(up, reason):
    return up["connections"]["closed"].get(reason, 0)


def served(b, origin, token=None, path="/"):
    """One request (naming `token` when given) on a fresh caller connection; returns (status, upstream client port)."""
    before = len(origin.client_ports)
    r = raw_request(b.proxy, get_req(origin.hostport, path, extra=gen(token) if token else b""))
    port = origin.client_ports[-1] if len(origin.client_ports) > before else None
    return r, port


def idle_one(b, origin):
    return wait_upstream(b, origin.hostport, lambda u: u["idle"] == 1 and u["busy"] == 0, what="one idle connection")


def test_the_header_is_stripped_and_the_generation_shown(berth, origin):
    b = berth()
    r, _ = served(b, origin, "c0ffee")
    assert r.status == 200, r
    _, path, headers = origin.requests[-1]
    assert not any(k.lower() == "berth-generation" for k in headers), headers
    up = upstream_stats(b, origin.hostport)
    assert up["generation"] == "c0ffee", up
    assert up["generation_changes"] == 1, up
    assert closed(up, "generation") == 0, up


def test_a_new_generation_closes_the_old_idle_connections_and_never_reuses_them(berth, origin):
    b = berth()
    r, old = served(b, origin, "A", "/a")
    assert r.status == 200, r
    idle_one(b, origin)
    r, new = served(b, origin, "B", "/b")
    assert r.status == 200, r
    assert new != old, "a request naming a new generation went out on the older one's connection"
    up = idle_one(b, origin)
    assert closed(up, "generation") == 1, up
    assert (up["generation"], up["generation_changes"]) == ("B", 2), up
    # Requests without the header and naming the current generation get the current one's connection.
    r, port = served(b, origin, None, "/plain")
    assert (r.status, port) == (200, new), r
    r, port = served(b, origin, "B", "/b2")
    assert (r.status, port) == (200, new), r
    assert upstream_stats(b, origin.hostport)["connections"]["opened"] == 2


def test_a_stale_generation_arriving_late_is_refused_without_connecting(berth, origin):
    b = berth()
    assert served(b, origin, "A")[0].status == 200
    assert served(b, origin, "B")[0].status == 200
    idle_one(b, origin)
    sent = len(origin.requests)
    r, _ = served(b, origin, "A", "/late")
    assert r.status == 409, r
    assert r.header("Berth-Error") == "stale-generation", r
    assert len(origin.requests) == sent, "the stale request reached the upstream"
    up = upstream_stats(b, origin.hostport)
    assert up["failures"]["stale-generation"] == 1, up
    assert (up["generation"], up["generation_changes"], up["connections"]["opened"]) == ("B", 2, 2), up
    assert up["idle"] == 1, "the refusal neither closed the current connection nor revived the old pool"
    r, _ = served(b, origin, "B", "/still")
    assert r.status == 200, r


def test_a_queued_request_whose_generation_is_replaced_meanwhile_is_refused(berth, origin):
    """max-per-route 1: A's first request holds the only connection, A's second waits for it; B arrives and replaces
    A. The waiting request must not get the slot B's container now answers: 409, and B is served."""
    b = berth("--max-per-route", "1", "--socket-timeout", "5s", "--acquire-timeout", "5s")
    slow = RawClient(b.proxy)
    waiting = RawClient(b.proxy)
    try:
        slow.sendall(get_req(origin.hostport, "/sleep/1.5", extra=gen("A")))
        wait_upstream(b, origin.hostport, lambda u: u["busy"] == 1, what="A's first request in flight")
        waiting.sendall(get_req(origin.hostport, "/queued", extra=gen("A")))
        wait_upstream(b, origin.hostport, lambda u: u["pending"] == 1, what="A's second request queued")
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("b", served(b, origin, "B", "/b")[0]), daemon=True)
        t.start()
        assert slow.read_response().status == 200
        r = waiting.read_response()
        assert r.status == 409 and r.header("Berth-Error") == "stale-generation", r
        t.join(10)
        assert out["b"].status == 200, out
    finally:
        slow.close()
        waiting.close()
    assert "/queued" not in [p for _, p, _ in origin.requests]
    up = upstream_stats(b, origin.hostport)
    assert closed(up, "stale-epoch") == 1, "A's busy connection closed on release instead of serving B"


def test_a_flood_of_generations_keeps_a_bounded_record(berth, origin):
    """Each new generation is served (on a new connection); the record keeps the last 16 retired ones, so a
    generation past it is taken for a new one and a recent one is still refused."""
    b = berth()
    n = 40
    for i in range(n):
        r, _ = served(b, origin, f"gen-{i}")
        assert r.status == 200, (i, r)
    up = upstream_stats(b, origin.hostport)
    assert (up["generation"], up["generation_changes"]) == (f"gen-{n - 1}", n), up
    assert up["open"] <= 1, "older generations' connections were closed, not kept"
    assert served(b, origin, f"gen-{n - 2}")[0].status == 409, "a recent generation is remembered"
    assert served(b, origin, f"gen-{n - 17}")[0].status == 409, "the oldest remembered one"
    r, _ = served(b, origin, f"gen-{n - 18}")
    assert r.status == 200, "past the record: taken for a new generation"
    assert upstream_stats(b, origin.hostport)["generation"] == f"gen-{n - 18}"


def test_requests_without_the_header_are_unchanged(berth, origin):
    b = berth()
    ports = {served(b, origin)[1] for _ in range(5)}
    assert len(ports) == 1, ports
    up = upstream_stats(b, origin.hostport)
    assert "generation" not in up, up
    assert (up["generation_changes"], closed(up, "generation"), up["connections"]["reused"]) == (0, 0, 4), up


def test_a_malformed_generation_is_refused(berth, origin):
    b = berth()
    for extra in [gen("a b"), gen("x" * 65), gen("A") + gen("B"), b"Berth-Generation:\r\n"]:
        r = raw_request(b.proxy, get_req(origin.hostport, "/bad", extra=extra))
        assert r.status == 400 and r.header("Berth-Error") == "bad-request", (extra, r)
        assert b"Berth-Generation" in r.body, r.body
    assert origin.requests == []


def test_a_connect_naming_a_stale_generation_is_refused(berth, origin):
    b = berth("--connect-port", str(origin.port))
    assert served(b, origin, "A")[0].status == 200
    assert served(b, origin, "B")[0].status == 200
    c = RawClient(b.proxy)
    try:
        c.sendall(f"CONNECT {origin.hostport} HTTP/1.1\r\nHost: {origin.hostport}\r\n".encode() + gen("A") + b"\r\n")
        r = c.read_response("CONNECT")
        assert r.status == 409 and r.header("Berth-Error") == "stale-generation", r
        assert c.is_closed(), "a refused CONNECT closes"
    finally:
        c.close()


def test_workers_share_a_new_generation(berth, origin):
    """Two workers: whichever took the caller connection, a replaced generation is refused on every one."""
    b = berth("--workers", "2")
    assert served(b, origin, "A")[0].status == 200
    assert served(b, origin, "B")[0].status == 200
    for i in range(8):
        r, _ = served(b, origin, "A", f"/late/{i}")
        assert r.status == 409, (i, r)
