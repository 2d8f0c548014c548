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
