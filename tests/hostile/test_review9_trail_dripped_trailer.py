"""A chunked answer's last chunk is held until its whole trailer section is in, so nothing reaches the caller while
the section arrives. An origin dripping that section a byte at a time under the socket timeout held the caller with
no bound but the section's 16 KiB (16,384 socket timeouts: 4.5 hours at 1 s), as a dripped head did before
`response-head-timeout`. That deadline now bounds the held section too, from the turn that first found it partial:
past it the answer is cut (no last chunk, the caller's connection closed), counted `response-truncated`."""
import time

from berthkit import stats
from berthkit.trailer_wire import drip, read_until_suffix
from hostile_wire import connect, read_to_end, status_of


def test_a_trailer_dripped_under_the_socket_timeout_is_cut_at_the_head_timeout(berth, raw_origin):
    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n")
        try:
            drip(conn, b"X-Slow: " + b"s" * 60, pause=0.2)
        except OSError:
            pass
        time.sleep(1)

    o = raw_origin(handler)
    b = berth("--socket-timeout", "1s", "--response-head-timeout", "1500ms")
    c = connect(b.proxy, timeout=8)
    c.sendall(f"GET http://{o.hostport}/t HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    t0 = time.monotonic()
    raw, how = read_to_end(c, timeout=6)  # the drip takes 14 s
    took = time.monotonic() - t0
    c.close()
    assert status_of(raw) == 200, raw[:200]
    assert how in ("fin", "reset"), f"still held after {took:.1f}s: {raw[-60:]!r}"
    assert raw.endswith(b"2\r\nok\r\n"), raw[-60:]  # cut before any last chunk
    assert took < 5, f"cut after {took:.1f}s"
    assert stats(b)["totals"]["errors"].get("response-truncated") == 1, stats(b)["totals"]["errors"]


def test_a_slow_body_with_leading_zero_sizes_and_a_prompt_trailer_is_whole(berth, raw_origin):
    """The deadline bounds only a held section: a body of chunks sized `0...` dripped past the head timeout, each
    line held until known, and a section sent at once, is a whole answer."""
    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(8):
            conn.sendall(b"0")
            time.sleep(0.3)
            conn.sendall(b"2\r\nok\r\n")
        conn.sendall(b"0\r\nX-T: 1\r\n\r\n")
        time.sleep(1)

    o = raw_origin(handler)
    b = berth("--socket-timeout", "1s", "--response-head-timeout", "1s")
    c = connect(b.proxy, timeout=8)
    c.sendall(f"GET http://{o.hostport}/t HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    raw = read_until_suffix(c, b"0\r\nX-T: 1\r\n\r\n")
    c.close()
    assert raw.partition(b"\r\n\r\n")[2] == b"02\r\nok\r\n" * 8 + b"0\r\nX-T: 1\r\n\r\n"


def test_a_slow_caller_is_never_cut_for_its_own_pace_at_the_held_section(berth, raw_origin):
    """The origin sends a body past high water and a section in two writes; the caller reads nothing for longer than
    the deadline. The section's deadline starts only once the upstream is read again: the answer is whole."""
    import socket
    payload = b"p" * (1 << 20)

    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n" + payload + b"\r\n0\r\nX-A: 1\r\n")
        time.sleep(0.3)
        conn.sendall(b"\r\n")
        time.sleep(3)

    o = raw_origin(handler)
    b = berth("--socket-timeout", "5s", "--response-head-timeout", "1s")
    c = connect(b.proxy, timeout=10)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    c.sendall(f"GET http://{o.hostport}/t HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    time.sleep(2.5)
    want = b"100000\r\n" + payload + b"\r\n0\r\nX-A: 1\r\n\r\n"
    raw = b""
    deadline = time.monotonic() + 20
    while not raw.endswith(b"0\r\nX-A: 1\r\n\r\n") and time.monotonic() < deadline:
        chunk = c.recv(262144)
        if not chunk:
            break
        raw += chunk
    c.close()
    assert raw.partition(b"\r\n\r\n")[2] == want, raw[-80:]
    assert not stats(b)["totals"]["errors"].get("response-truncated"), stats(b)["totals"]["errors"]
