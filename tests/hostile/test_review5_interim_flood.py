"""review5: an upstream that sends interim (1xx) heads without end, to a caller that does not read them, costs
bounded memory. Before: the relay took one small head per step, a few dozen per loop turn, while each turn read up
to a whole read's worth on top: the upstream's input grew without bound (berth's RSS +6.6 GB after 16 s of 103
Early Hints), and as the input never emptied, the flow control that stops reading the upstream never ran. After: a
relay turn that stops with input or caller output past high water reads no more until the relay has caught up."""
import socket
import threading
import time

from hostile_wire import connect, rss_kib

LIMIT = 256 << 20  # at most this much flood, at most 8 s of it


def _rss_mib(pid):
    return rss_kib(pid) // 1024


def test_interim_flood_to_a_caller_that_does_not_read(berth):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
    sent = [0]
    done = threading.Event()

    def flood():
        c, _ = lsock.accept()
        c.settimeout(0.5)
        c.recv(65536)
        piece = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" * 2000
        deadline = time.monotonic() + 8
        try:
            while time.monotonic() < deadline and sent[0] < LIMIT:
                try:
                    sent[0] += c.send(piece)
                except socket.timeout:
                    pass
        except OSError:
            pass
        done.set()
        c.close()

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    b = berth("--socket-timeout", "30s")
    before = _rss_mib(b.pid)
    s = connect(b.proxy)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        s.sendall(f"GET http://{hostport}/ HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
        done.wait(15)
        grown = _rss_mib(b.pid) - before
    finally:
        s.close()
        lsock.close()
    assert b.proc.poll() is None
    assert grown < 64, f"berth's RSS grew {grown} MiB while the upstream sent {sent[0] >> 20} MiB of 1xx heads"
    # Bounded because berth stopped taking them, not because the flood was small.
    assert sent[0] < 64 << 20, f"berth took {sent[0] >> 20} MiB of 1xx heads for a caller that reads none"


def test_interim_flood_then_final_answer_then_close_reaches_a_reading_caller(berth):
    """The bound stops nothing a caller reads, and bytes read before the upstream's FIN are answered before it:
    20,000 interim heads, the final answer and a close, sent at once, all arrive in order. Before (main too, without
    the flood's fix): the FIN was read while a yielded relay still held most of the heads, and the caller got
    `502 upstream-reset` after ~3,700 of 5,000 of them."""
    count = 20000
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    hostport = "127.0.0.1:%d" % lsock.getsockname()[1]

    def answer():
        c, _ = lsock.accept()
        c.recv(65536)
        c.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n" * count
                  + b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndone")
        c.close()

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    b = berth()
    s = connect(b.proxy, timeout=30)
    try:
        s.sendall(f"GET http://{hostport}/ HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
        # The caller's connection stays open after the answer (berth keeps it alive): read until "done", an error
        # answer, or 20 s.
        data = bytearray()
        deadline = time.monotonic() + 20
        while not data.endswith(b"done") and b"Berth-Error" not in data and time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
        lsock.close()
    assert b"Berth-Error" not in data, bytes(data[-300:])
    assert data.endswith(b"done"), bytes(data[-300:])
    assert data.count(b"HTTP/1.1 103 Early Hints\r\n") == count
    assert data.rindex(b"HTTP/1.1 200 OK\r\n") > data.rindex(b"HTTP/1.1 103")
