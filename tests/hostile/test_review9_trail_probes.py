"""Review 9 of the held last chunk and trailer (response and request) and the response head deadline: probes berth
survives. A held last chunk behind a slow caller goes out once, after the body, with its section rewritten; a
trailer dripped a byte a read, with extensions or many zeros, at the trailer limit and one past it; pipelined
requests behind a held request trailer; and a kept connection's next head is never cut by the last one's deadline."""
import socket
import time

from berthkit.trailer_wire import chunked_post, drip, read_through_trailer, read_until_suffix
from hostile_wire import connect, status_of

TRAILER = b"X-Keep: 1\r\nContent-Length: 5\r\nX-Also: 2\r\n\r\n"
KEPT = b"X-Keep: 1\r\nX-Also: 2\r\n\r\n"


def read_chunked_answer(c, expected, deadline=10.0):
    """One chunked answer from `c`: (head, the framed body), read until it is as long as `expected` (or the peer
    ends first)."""
    raw = b""
    end = time.monotonic() + deadline
    while b"\r\n\r\n" not in raw:
        chunk = c.recv(65536)
        assert chunk, raw[:300]
        raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    parts = [rest]
    got = len(rest)
    while got < len(expected):
        assert time.monotonic() < end, got
        chunk = c.recv(262144)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return head + b"\r\n\r\n", b"".join(parts)


def test_a_held_last_chunk_behind_a_slow_caller_goes_out_once_after_the_body(berth, raw_origin):
    payload = bytes(range(256)) * 4096  # 1 MiB, past high water
    body = b"".join(b"%x\r\n" % len(payload[i:i + 65536]) + payload[i:i + 65536] + b"\r\n"
                    for i in range(0, len(payload), 65536))

    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n" + TRAILER)
        conn.sock.shutdown(socket.SHUT_WR)  # the upstream's FIN right after the trailer
        time.sleep(3)

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy, timeout=10)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)  # a small window: the output backs up
    c.sendall(f"GET http://{o.hostport}/big HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    time.sleep(1.0)  # the caller reads nothing while the origin's whole answer and FIN arrive
    c.shutdown(socket.SHUT_WR)  # and then its own FIN
    head, framed = read_chunked_answer(c, body + b"0\r\n" + KEPT, deadline=25)
    assert status_of(head) == 200, head
    assert framed == body + b"0\r\n" + KEPT, framed[-120:]
    c.settimeout(3)
    assert c.recv(100) == b""  # nothing after the one last chunk
    c.close()


def test_a_trailer_dripped_a_byte_a_read_then_a_fin(berth, raw_origin):
    section = b"0;ext=\"a b\"\r\n" + b"".join(b"X-F%03d: %s\r\n" % (i, b"v" * 20) for i in range(40)) + b"\r\n"

    def handler(conn):
        conn.read_request()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n")
        drip(conn, section)
        conn.sock.shutdown(socket.SHUT_WR)
        time.sleep(2)

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy, timeout=15)
    c.sendall(f"GET http://{o.hostport}/d HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    head, framed = read_chunked_answer(c, b"2\r\nok\r\n" + section, deadline=20)
    assert framed == b"2\r\nok\r\n" + section, framed[-200:]
    c.close()


def test_many_zeros_extensions_and_a_trailer_at_the_limit_on_one_kept_connection(berth, raw_origin):
    limit = 16 * 1024
    fill = limit - len(b"X-Big: \r\n\r\n")
    at_limit = b"X-Big: " + b"z" * fill + b"\r\n\r\n"
    answers = [b"00000\r\n\r\n", b"0;a=b;c\r\n\r\n", b"0\r\n" + at_limit]

    def handler(conn):
        for tail in answers:
            conn.read_request()
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n003\r\nabc\r\n" + tail)
        time.sleep(1)

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy)
    for tail in answers:
        c.sendall(f"GET http://{o.hostport}/z HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        head, framed = read_chunked_answer(c, b"003\r\nabc\r\n" + tail)
        assert status_of(head) == 200, head
        assert framed == b"003\r\nabc\r\n" + tail, framed[-100:]
    c.close()
    assert o.connections == 1


def test_a_trailer_one_past_the_limit_is_a_cut_not_a_last_chunk(berth, raw_origin):
    over = b"0\r\nX-Big: " + b"z" * (16 * 1024 - len(b"X-Big: \r\n\r\n") + 1) + b"\r\n\r\n"

    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n" + over)
        time.sleep(2)

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy)
    c.sendall(f"GET http://{o.hostport}/z HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    raw = b""
    c.settimeout(5)
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            raw += chunk
    except ConnectionResetError:
        pass
    assert status_of(raw) == 200, raw[:200]
    assert raw.endswith(b"3\r\nabc\r\n"), raw[-100:]  # the body cut before any last chunk
    c.close()


def test_pipelined_requests_behind_a_held_request_trailer(berth, raw_origin):
    seen = []

    def handler(conn):
        while True:
            msg = conn.read_request_head()
            if msg is None:
                return
            if msg.method == "POST":
                seen.append(read_through_trailer(conn))
            else:
                seen.append(msg.target.encode())
            conn.respond(body=b"ok")

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy)
    post = chunked_post(o.hostport) + b"3\r\nabc\r\n"
    get = f"GET http://{o.hostport}/next HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode()
    c.sendall(post)
    time.sleep(0.2)
    c.sendall(b"0\r\n" + TRAILER + get + get)
    raw = b""
    c.settimeout(5)
    while raw.count(b"\r\n\r\nok") < 3:
        chunk = c.recv(65536)
        assert chunk, raw
        raw += chunk
    c.close()
    assert seen == [b"3\r\nabc\r\n0\r\n" + KEPT, b"/next", b"/next"], seen


def test_the_last_heads_deadline_never_cuts_the_next_head_on_a_kept_connection(berth, raw_origin):
    """The first answer's head comes in two reads (a deadline starts); the next answer's head, on the same
    connections, comes whole after a think time longer than that deadline."""
    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        time.sleep(0.3)
        conn.sendall(b"Content-Length: 2\r\n\r\nok")
        conn.read_request()
        time.sleep(1.6)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(1)

    o = raw_origin(handler)
    b = berth("--socket-timeout", "3s", "--response-head-timeout", "1s")
    c = connect(b.proxy)
    for _ in range(2):
        c.sendall(f"GET http://{o.hostport}/k HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        raw = read_until_suffix(c, b"ok")
        assert status_of(raw) == 200, raw
    c.close()
    assert o.connections == 1


def test_a_100_continue_then_a_dripped_final_head_gets_the_head_timeout(berth, raw_origin):
    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            drip(conn, b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 40, pause=0.1)
        except OSError:
            pass
        time.sleep(1)

    o = raw_origin(handler)
    b = berth("--socket-timeout", "2s", "--response-head-timeout", "1s")
    c = connect(b.proxy, timeout=8)
    c.sendall(f"POST http://{o.hostport}/e HTTP/1.1\r\nHost: {o.hostport}\r\nExpect: 100-continue\r\n"
              "Content-Length: 2\r\n\r\nhi".encode())
    t0 = time.monotonic()
    raw = b""
    while b"504" not in raw:
        chunk = c.recv(65536)
        assert chunk, raw
        raw += chunk
    assert raw.startswith(b"HTTP/1.1 100 Continue\r\n"), raw[:200]
    assert status_of(raw.partition(b"\r\n\r\n")[2]) == 504, raw[:300]
    assert time.monotonic() - t0 < 3
    c.close()


def test_a_request_trailer_dripped_a_byte_a_read_after_100_continue(berth, raw_origin):
    seen = []
    section = b"0;x=1\r\n" + b"".join(b"X-R%03d: v\r\nHost: h%d\r\n" % (i, i) for i in range(30)) + b"\r\n"
    kept = b"0;x=1\r\n" + b"".join(b"X-R%03d: v\r\n" % i for i in range(30)) + b"\r\n"

    def handler(conn):
        conn.read_request_head()
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        seen.append(read_through_trailer(conn))
        conn.respond(body=b"ok")
        time.sleep(1)

    o = raw_origin(handler)
    b = berth("--socket-timeout", "5s")
    c = connect(b.proxy, timeout=15)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.sendall(chunked_post(o.hostport, fields="Expect: 100-continue\r\n"))
    raw = read_until_suffix(c, b"\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 100 Continue"), raw
    c.sendall(b"3\r\nabc\r\n")
    drip(c, section)
    raw = read_until_suffix(c, b"ok")
    c.close()
    assert status_of(raw) == 200, raw
    assert seen == [b"3\r\nabc\r\n" + kept], seen


def test_head_and_304_answers_naming_chunked_never_wait_for_a_last_chunk(berth, raw_origin):
    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        conn.read_request()
        conn.sendall(b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n")
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(1)

    o = raw_origin(handler)
    b = berth("--socket-timeout", "3s")
    c = connect(b.proxy, timeout=2)
    for method, extra in (("HEAD", ""), ("GET", "If-None-Match: \"a\"\r\n"), ("GET", "")):
        c.sendall(f"{method} http://{o.hostport}/h HTTP/1.1\r\nHost: {o.hostport}\r\n{extra}\r\n".encode())
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = c.recv(65536)
            assert chunk, raw
            raw += chunk
        if method == "GET" and not extra:
            raw = read_until_suffix(c, b"ok", raw)
        assert status_of(raw) in (200, 304), raw
    c.close()
    assert o.connections == 1


def test_20000_leading_zero_chunks_in_an_answer_then_the_origins_fin(berth, raw_origin):
    body = b"01\r\nx\r\n" * 20000 + b"000\r\nX-T: 1\r\nTE: x\r\n\r\n"

    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        conn.sock.shutdown(socket.SHUT_WR)
        time.sleep(2)

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy, timeout=10)
    c.sendall(f"GET http://{o.hostport}/z HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    expected = b"01\r\nx\r\n" * 20000 + b"000\r\nX-T: 1\r\n\r\n"
    head, framed = read_chunked_answer(c, expected)
    assert status_of(head) == 200, head
    assert framed == expected, framed[-100:]
    c.close()
