"""rev19: a caller that resets after its early answer does not cut the upload tail berth still holds for the origin.

Item 142 keeps an exchange whose answer is whole until the request body's tail has left berth's own output (then 136's
close puts the FIN behind it). The caller, answered 200 keep-alive with its whole upload read, may go away meanwhile:
with a FIN the wait went on, but a reset (a client closing with SO_LINGER 0) closed the session, which aborted the
upstream connection with the tail still in berth: the origin read the body cut short, then a reset. The upload was
berth's to deliver whatever the caller does after its answer (before 136 the pooled connection sent it)."""
import socket
import struct
import threading
import time

from hostile_wire import connect
from test_rev18_early_answer_tail_in_berth import _origin

SIZES = (2_600_000, 2_900_000, 3_000_000)


def _upload_then_reset(proxy, hostport, size, heads):
    """One caller: a POST of `size` bytes; once its answer is in, a reset (SO_LINGER 0) rather than a FIN."""
    s = connect(proxy, timeout=15)
    sender = threading.Thread(target=lambda: s.sendall(
        f"POST http://{hostport}/u HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: {size}\r\n\r\n".encode()
        + b"u" * size), daemon=True)
    sender.start()
    buf = b""
    while not (b"\r\n\r\n" in buf and buf.endswith(b"ok")):
        got = s.recv(4096)
        assert got, buf
        buf += got
    heads[size] = buf.split(b"\r\n\r\n", 1)[0].lower()
    sender.join(15)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_a_caller_reset_after_its_answer_leaves_the_upload_tail_to_reach_the_origin(berth):
    b = berth()
    events, heads = [], {}
    lsock, stop, t = _origin(events)
    hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
    try:
        callers = [threading.Thread(target=_upload_then_reset, args=(b.proxy, hostport, n, heads), daemon=True)
                   for n in SIZES]
        for c in callers:
            c.start()
        for c in callers:
            c.join(30)
        deadline = time.monotonic() + 10
        while len(events) < len(SIZES) and time.monotonic() < deadline:
            time.sleep(0.05)
        read = dict(events)
        kept = [n for n in SIZES if b"connection: close" not in heads.get(n, b"connection: close")]
        assert kept, heads
        # Before: the reset closed the session and aborted the upstream, cutting the tail (2,805,670 of 2,900,000).
        assert {n: read.get(n) for n in kept} == {n: n for n in kept}, (events, heads)
    finally:
        stop.append(1)
        lsock.close()
        t.join(2)
