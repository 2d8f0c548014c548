"""A response berth cuts itself, mid-body, never ends in a way that makes it look whole (adv4).

`cutResponse` resets a caller whose framing cannot show a cut (a close-delimited or de-chunked body to an HTTP/1.0
caller), but two places close a session mid-response without it: the drain timeout of a SIGTERM, and the idle
timeout of a caller that stopped reading. Both ended the connection with a FIN, which to an HTTP/1.0 caller reading a
close-delimited body is the body's end: 1,000 bytes of a response the origin was still sending arrived as a whole
200, and a reader that came back after the idle timeout read what the kernel held and a clean end."""
import signal
import socket
import threading
import time

import pytest

from berthkit import Berth
from hostile_wire import connect, read_to_end, status_of

STALL_BODY = 8 << 20


class Origin:
    """Answers one request with `head` + `body`, then holds the connection open for `hold` seconds."""

    def __init__(self, head, body, hold=30):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.hostport = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.done = threading.Event()

        def serve():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            conn.recv(65536)
            try:
                conn.sendall(head + body)
            except OSError:
                pass
            self.done.wait(hold)
            conn.close()

        threading.Thread(target=serve, daemon=True).start()

    def close(self):
        self.done.set()
        self.listener.close()


def request_10(hostport):
    return f"GET http://{hostport}/x HTTP/1.0\r\nHost: {hostport}\r\n\r\n".encode()


@pytest.mark.parametrize("framing", ["close-delimited", "de-chunked"])
def test_a_drain_timeout_resets_an_http10_caller_mid_body(framing):
    if framing == "close-delimited":
        origin = Origin(b"HTTP/1.0 200 OK\r\n\r\n", b"x" * 1000)
    else:
        origin = Origin(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"3e8\r\n" + b"x" * 1000 + b"\r\n")
    b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
               "--socket-timeout", "30s", "--drain-timeout", "1s"])
    try:
        caller = connect(b.proxy, timeout=15)
        caller.sendall(request_10(origin.hostport))
        time.sleep(0.5)
        b.proc.send_signal(signal.SIGTERM)
        got, how = read_to_end(caller, timeout=10)
        assert status_of(got) == 200, got[:200]
        assert how == "reset", (how, len(got), got[:200])
        assert b.proc.wait(10) == 0
    finally:
        b.stop()
        origin.close()


def test_a_caller_that_stopped_reading_past_the_idle_timeout_is_reset_not_ended():
    origin = Origin(b"HTTP/1.0 200 OK\r\n\r\n", b"y" * STALL_BODY)
    b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
               "--socket-timeout", "30s", "--caller-idle-timeout", "1s"])
    try:
        caller = socket.socket()
        caller.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        caller.settimeout(15)
        caller.connect(b.proxy)
        caller.sendall(request_10(origin.hostport))
        # Reads nothing for longer than the idle timeout: berth gives up on it.
        time.sleep(3)
        got, how = read_to_end(caller, timeout=10)
        assert status_of(got) == 200, got[:200]
        body = got.partition(b"\r\n\r\n")[2]
        assert len(body) < STALL_BODY, len(body)
        assert how == "reset", (how, len(body))
    finally:
        b.stop()
        origin.close()


def test_an_answer_berth_still_held_when_its_stalled_caller_timed_out_ends_with_a_reset():
    """The origin sent a whole close-delimited answer and closed, so berth read its end and held the rest in its own
    output for a caller that stopped reading. At the caller's idle timeout berth dropped those bytes and sent a FIN:
    an HTTP/1.0 caller that came back read 2,807,745 bytes of 3,000,000 as the whole body. Each size is whole or
    reset, never cut with a FIN (which sizes berth ends up holding depends on the kernel's buffers: many are tried
    at once)."""
    sizes = list(range(2_000_000, 4_200_000, 100_000))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    hostport = f"127.0.0.1:{listener.getsockname()[1]}"

    def serve(conn):
        with conn:
            head = conn.recv(65536)
            size = int(head.split(b" ")[1].rsplit(b"/", 1)[1])
            conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + b"z" * size)

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
               "--caller-idle-timeout", "500ms"])
    try:
        callers = []
        for size in sizes:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(15)
            s.connect(b.proxy)
            s.sendall(f"GET http://{hostport}/{size} HTTP/1.0\r\nHost: {hostport}\r\n\r\n".encode())
            callers.append((size, s))
        time.sleep(2.5)
        cut = []
        for size, s in callers:
            got, how = read_to_end(s, limit=size + 4096, timeout=15)
            s.close()
            body = got.partition(b"\r\n\r\n")[2]
            if len(body) != size and how != "reset":
                cut.append((size, len(body), how))
        assert cut == [], cut
    finally:
        b.stop()
        listener.close()
