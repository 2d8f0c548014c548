"""An OPTIONS of an absolute-form URI with an empty path and no query asks about the server itself: berth, the last
proxy on the chain, sends it to the origin as `OPTIONS *` (RFC 9112 3.2.4); every other empty path goes as `/`."""
from berthkit import RawOrigin
from berthkit.raw_client import raw_request


def _answer(conn):
    while conn.read_request() is not None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


def _targets(berth, requests):
    o = RawOrigin(_answer)
    b = berth()
    try:
        for line in requests:
            got = raw_request(b.proxy, f"{line.format(hp=o.hostport)} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode(),
                              method=line.split()[0])
            assert got.status == 200, got
        return [(msg.method, msg.target) for _, msg in o.requests]
    finally:
        o.close()


def test_options_of_a_bare_authority_goes_as_asterisk(berth):
    got = _targets(berth, ["OPTIONS http://{hp}", "OPTIONS http://{hp}/", "OPTIONS http://{hp}?q=1",
                           "GET http://{hp}", "OPTIONS http://{hp}/x"])
    assert got == [("OPTIONS", "*"), ("OPTIONS", "/"), ("OPTIONS", "/?q=1"), ("GET", "/"), ("OPTIONS", "/x")], got
