"""A held last chunk and its trailer section are read on from where the last read stopped (docs/reliability.md item 73), so where the
reads split them must not matter: every split, in both directions, gives the same bytes on the other side, the
forbidden fields left out, and the connection goes on to the next exchange."""
import time

from hostile_wire import connect

SECTION = b"0;e=\"q\"\r\nX-A: 1\r\nContent-Length: 9\r\nX-B:\t2 \r\n\r\n"
KEPT = b"0;e=\"q\"\r\nX-A: 1\r\nX-B:\t2 \r\n\r\n"


def read_exactly_through(sock, end):
    raw = b""
    while not raw.endswith(end):
        chunk = sock.recv(65536)
        assert chunk, raw[-100:]
        raw += chunk
    return raw


def test_a_request_trailer_split_at_every_offset_reaches_the_origin_whole(berth, raw_origin):
    seen = []

    def handler(conn):
        while True:
            try:
                conn.read_until(b"\r\n\r\n")
            except EOFError:
                return
            seen.append(conn.read_until(b"\r\n\r\n"))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy, timeout=5)
    for cut in range(len(SECTION) + 1):
        c.sendall(f"POST http://{o.hostport}/u HTTP/1.1\r\nHost: {o.hostport}\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n".encode() + SECTION[:cut])
        time.sleep(0.02)
        c.sendall(SECTION[cut:])
        raw = read_exactly_through(c, b"ok")
        assert raw.startswith(b"HTTP/1.1 200"), (cut, raw[:100])
    c.close()
    assert seen == [b"5\r\nhello\r\n" + KEPT] * (len(SECTION) + 1), [s for s in seen if s != b"5\r\nhello\r\n" + KEPT][:3]


def test_a_response_trailer_split_at_every_offset_reaches_the_caller_whole(berth, raw_origin):
    def handler(conn):
        cut = 0
        while True:
            try:
                conn.read_until(b"\r\n\r\n")
            except EOFError:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n" + SECTION[:cut])
            time.sleep(0.02)
            conn.sendall(SECTION[cut:])
            cut += 1

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy, timeout=5)
    for cut in range(len(SECTION) + 1):
        c.sendall(f"GET http://{o.hostport}/d HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        raw = read_exactly_through(c, b"X-B:\t2 \r\n\r\n")
        assert raw.partition(b"\r\n\r\n")[2] == b"2\r\nok\r\n" + KEPT, (cut, raw[-80:])
    c.close()
