"""A chunked answer's held trailer section has the response head's deadline (item 59). While a request body still
drains into the upstream, the socket timeout's look at it (`upstreamStillTakes`: bytes queued to it, its first look)
started the timer again for a whole socket timeout, past that deadline: with a 2 s socket timeout and a 2.5 s
deadline the cut came at 4 s. The restart now stops at the deadline."""
import socket
import time

from hostile_wire import connect, read_to_end, status_of


def test_a_held_trailer_deadline_holds_while_the_upload_still_drains(berth, raw_origin):
    def handler(conn):
        conn.read_until(b"\r\n\r\n")  # the upload behind it is never read: it stays queued in berth and the kernel
        time.sleep(0.5)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n")
        time.sleep(8)

    o = raw_origin(handler)
    b = berth("--socket-timeout", "2s", "--response-head-timeout", "2500ms")
    c = connect(b.proxy, timeout=10)
    c.sendall(f"POST http://{o.hostport}/u HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: 100000000\r\n\r\n".encode())
    c.settimeout(0.3)
    piece = b"u" * 65536
    try:
        for _ in range(400):  # until berth and both kernels hold all they will take
            c.sendall(piece)
    except (socket.timeout, BlockingIOError):
        pass
    c.settimeout(10)
    raw = b""
    while b"2\r\nok\r\n" not in raw:
        chunk = c.recv(65536)
        assert chunk, raw
        raw += chunk
    t0 = time.monotonic()
    rest, how = read_to_end(c, timeout=8)
    took = time.monotonic() - t0
    c.close()
    raw += rest
    assert status_of(raw) == 200, raw[:200]
    assert how in ("fin", "reset"), raw[-60:]
    assert raw.endswith(b"2\r\nok\r\n"), raw[-60:]  # cut before any last chunk
    assert took < 3.4, f"cut {took:.1f}s after the held section began (deadline 2.5 s, socket timeout 2 s)"
