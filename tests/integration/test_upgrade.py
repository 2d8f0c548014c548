"""Upgrade (101) becomes a tunnel."""
from berthkit import RawClient, get_req


def _upgrade_origin(raw_origin, greeting=b""):
    def handler(conn):
        msg = conn.read_request_head()
        if msg is None:
            return
        if (msg.header("Upgrade") or "").lower() != "test":
            conn.respond(400, b"no upgrade header")
            return
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n" + greeting)
        while not conn.origin.stopped.is_set():
            data = conn.read_some()
            if not data:
                return
            conn.sendall(data.upper() if data.isascii() else data)

    return raw_origin(handler)


def test_upgrade_101_becomes_tunnel(berth, raw_origin):
    o = _upgrade_origin(raw_origin)
    b = berth("--socket-timeout", "5s")
    c = RawClient(b.proxy)
    try:
        c.sendall(get_req(o.hostport, "/ws", b"Connection: Upgrade\r\nUpgrade: test\r\n"))
        r = c.read_response()
        assert r.status == 101, r
        assert (r.header("Upgrade") or "").lower() == "test", r
        assert "upgrade" in (r.header("Connection") or "").lower(), r
        for word in (b"hello", b"world", b"again"):
            c.sendall(word)
            got = c.read_exact(len(word))
            assert got == word.upper()
        blob = bytes(range(128, 256)) * 2048
        c.sendall(blob)
        assert c.read_exact(len(blob)) == blob
    finally:
        c.close()
    _, msg = o.requests[0]
    assert msg.header("Upgrade") == "test", msg.headers
    assert "upgrade" in (msg.header("Connection") or "").lower(), msg.headers


def test_upgrade_bytes_sent_with_101_head_are_delivered(berth, raw_origin):
    o = _upgrade_origin(raw_origin, greeting=b"server-first")
    b = berth("--socket-timeout", "5s")
    c = RawClient(b.proxy)
    try:
        c.sendall(get_req(o.hostport, "/ws", b"Connection: Upgrade\r\nUpgrade: test\r\n"))
        r = c.read_response()
        assert r.status == 101, r
        assert c.read_exact(len(b"server-first")) == b"server-first"
        c.sendall(b"ok")
        assert c.read_exact(2) == b"OK"
    finally:
        c.close()
