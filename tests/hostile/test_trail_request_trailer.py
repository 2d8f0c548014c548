"""A caller's chunked upload carrying fields no trailer may carry (`Content-Length`, `Host`, `Connection`, ...) went to
the origin as it came: smuggling toward an origin that merges trailers into the header section. They are left out
as in a response's trailer; other fields go through byte for byte, and a caller that half-closes right after its
last chunk still gets its answer."""
import socket
import time

import pytest

from berthkit.trailer_wire import chunked_post, drip, read_through_trailer, read_until_suffix
from hostile_wire import connect, status_of

SECTION = (b"X-Before: 1\r\nContent-Length: 5\r\nHost: evil.example\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
           b"Berth-Generation: g1\r\nX-After: 2\r\n\r\n")
KEPT = b"X-Before: 1\r\nX-After: 2\r\n\r\n"


def recording_origin(raw_origin, seen):
    def handler(conn):
        head = conn.read_until(b"\r\n\r\n")
        seen.append(head + read_through_trailer(conn))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(1)
    return raw_origin(handler)


@pytest.mark.parametrize("split", ["one-write", "dripped", "half-close"])
def test_forbidden_request_trailer_fields_never_reach_the_origin(berth, raw_origin, split):
    seen = []
    o = recording_origin(raw_origin, seen)
    b = berth()
    c = connect(b.proxy)
    body = b"5\r\nhello\r\n0\r\n" + SECTION
    if split == "dripped":
        c.sendall(chunked_post(o.hostport) + body[:14])
        drip(c, body[14:], step=9, pause=0.02)
    else:
        c.sendall(chunked_post(o.hostport) + body)
        if split == "half-close":
            c.shutdown(socket.SHUT_WR)
    raw = read_until_suffix(c, b"ok")
    c.close()
    assert status_of(raw) == 200, raw
    assert len(seen) == 1
    sent = seen[0].partition(b"\r\n\r\n")[2]
    assert sent == b"5\r\nhello\r\n0\r\n" + KEPT, sent


@pytest.mark.parametrize("tail", [b"0\r\n", b"0\r\nX-A: 1\r\n", b"0"], ids=["last-chunk", "trailer-line", "size-line"])
def test_an_upload_cut_inside_its_last_chunk_never_shows_the_origin_a_last_chunk(berth, raw_origin, tail):
    """The caller half-closes inside its last chunk or trailer: the origin must see a cut body (no last chunk), which
    no lenient parser can take for a whole request."""
    seen = []

    def handler(conn):
        conn.read_until(b"\r\n\r\n")
        seen.append(conn.read_until_cut())

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy)
    c.sendall(chunked_post(o.hostport) + b"5\r\nhello\r\n")
    time.sleep(0.3)
    c.sendall(tail)
    time.sleep(0.1)
    c.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    c.close()
    assert seen, "the origin's connection was never ended"
    assert seen[0][0] == b"5\r\nhello\r\n", f"the origin got the cut last chunk: {seen[0]!r}"


@pytest.mark.parametrize("pieces, fin", [
    ([b"0", b"05\r\nhello\r\n0\r\n\r\n"], False),
    ([b"01\r\nx\r\n" * 20000 + b"0\r\n\r\n"], False),
    ([b"01\r\nx\r\n" * 3000 + b"0", b"\r\n", b"\r\n"], False),
    ([b"01\r\nx\r\n" * 20000 + b"0\r\nX-T: 1\r\n\r\n"], True),
], ids=["split-leading-zeros", "20000-leading-zero-chunks", "dripped-end", "20000-leading-zero-chunks-then-fin"])
def test_sizes_with_leading_zeros_are_ordinary_chunks(berth, raw_origin, pieces, fin):
    """A size line starting with `0` is held only until it is known: `005` is a chunk, never a last chunk, however
    many come and however they are split. The held-line walk stops every few lines for the next loop turn
    (`heldDepth`): with the caller's FIN right behind the body (`fin`: its reading stopped), those turns still
    come, and the whole body reaches the origin."""
    body = b"".join(pieces)
    got = []

    def handler(conn):
        msg = conn.read_request()
        got.append(msg.body)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(1)

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy)
    c.sendall(chunked_post(o.hostport))
    for i, p in enumerate(pieces):
        c.sendall(p)
        if fin and i == len(pieces) - 1:
            c.shutdown(socket.SHUT_WR)
        time.sleep(0.05)
    read_until_suffix(c, b"ok")
    c.close()
    expect = b"hello" if b"hello" in body else b"x" * body.count(b"01\r\nx\r\n")
    assert got == [expect], (len(got[0]) if got else None, len(expect))


def test_a_replayed_upload_carries_the_trailer_as_rewritten(berth, raw_origin):
    """`replay: unread`: the copy a replay sends holds the trailer as it went the first time, rewritten."""
    bodies = []

    def handler(conn):
        n = 0
        while True:
            try:
                head = conn.read_until(b"\r\n\r\n")
            except EOFError:
                return
            n += 1
            if b"chunked" not in head.lower():
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                continue
            bodies.append(conn.read_until(b"\r\n\r\n"))
            if n == 2:
                return  # read whole, closed without a response byte: the keep-alive race
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nreplayed")

    o = raw_origin(handler)
    b = berth("--replay", "unread", "--idle-timeout", "30s")
    c = connect(b.proxy)
    c.sendall(f"GET http://{o.hostport}/prime HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    read_until_suffix(c, b"ok")
    time.sleep(0.1)
    c.sendall(chunked_post(o.hostport) + b"5\r\nhello\r\n0\r\n" + SECTION)
    read_until_suffix(c, b"replayed")
    c.close()
    assert bodies == [b"5\r\nhello\r\n0\r\n" + KEPT] * 2, bodies
