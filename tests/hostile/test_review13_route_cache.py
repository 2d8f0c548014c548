"""review13: the route cache (compared a word at a time, the last word overlapping) never sends a request to the
previous request's upstream when its route differs only in its last bytes, is a prefix of it, or differs in case.

Two origins on 127.0.0.1 with five-digit ports name their routes with runs of the same length (`127.0.0.1:PPPPP`,
`http://127.0.0.1:PPPPP`) that differ only in the tail; requests alternate on one kept caller connection, in
absolute form and in origin form with Host, each answered with the origin's own port."""
from hostile_wire import connect, read_response


def _named(port):
    def handler(conn):
        while True:
            msg = conn.read_request()
            if msg is None:
                return
            conn.respond(200, str(port).encode())
    return handler


def test_routes_differing_in_the_tail_prefix_or_case_reach_their_own_origin(berth, raw_origin):
    a = raw_origin(_named("a"))
    b = raw_origin(_named("b"))
    while len(a.hostport) != len(b.hostport):  # same-length routes: the tail word is what differs
        b = raw_origin(_named("b"))
    origins = {"a": a, "b": b}
    b_ = berth()
    s = connect(b_.proxy, timeout=10)
    pa, pb = a.hostport.rsplit(":", 1)[1], b.hostport.rsplit(":", 1)[1]
    sequence = [
        ("a", f"GET http://{a.hostport}/x HTTP/1.1\r\nHost: {a.hostport}\r\n\r\n"),
        ("b", f"GET http://{b.hostport}/x HTTP/1.1\r\nHost: {b.hostport}\r\n\r\n"),
        ("a", f"GET /x HTTP/1.1\r\nHost: {a.hostport}\r\n\r\n"),
        ("b", f"GET /x HTTP/1.1\r\nHost: {b.hostport}\r\n\r\n"),
        ("a", f"GET http://localhost:{pa}/x HTTP/1.1\r\nHost: localhost:{pa}\r\n\r\n"),
        ("a", f"GET http://LOCALHOST:{pa}/x HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("b", f"GET http://localhost:{pb}/x HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("a", f"GET /x HTTP/1.1\r\nHost: LocalHost:{pa}\r\n\r\n"),
        ("b", f"GET /x HTTP/1.1\r\nHost: localhost:{pb}\r\n\r\n"),
        ("a", f"GET http://{a.hostport}/x HTTP/1.1\r\nHost: {a.hostport}\r\n\r\n"),
    ]
    try:
        for i, (want, req) in enumerate(sequence):
            s.sendall(req.encode())
            head, body = read_response(s)
            assert head.startswith(b"HTTP/1.1 200"), (i, req, head)
            assert body == want.encode(), f"request {i} ({req.splitlines()[0]}) reached {body!r}, not {want}"
    finally:
        s.close()
    assert all(o.requests for o in origins.values())
