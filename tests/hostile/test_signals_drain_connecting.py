"""A request whose upstream connection is still being made when the drain runs out (a TCP connect not answered, a
TLS handshake half done) has not left berth: it is answered 503 `shutting-down`, as a queued one is, never cut
with no answer; a CONNECT whose connection is still being made is answered when the drain begins, as one queued or
looking up its name is (configuration.md, Shutdown)."""
import socket
import time

import pytest

from hostile_wire import connect, header_of, read_response, status_of

DRAIN = 5.0


class Unanswered:
    """A port whose connects never complete: its listen backlog is full and it never accepts, so the kernel drops
    every further SYN."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.fill = []
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fill.append(s)
        time.sleep(0.1)

    def close(self):
        for s in self.fill + [self.listener]:
            s.close()


class SilentTLS:
    """Accepts and reads, never answers: berth's ClientHello is in and its handshake half done."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]

    def accepted(self, timeout=5):
        self.listener.settimeout(timeout)
        conn, _ = self.listener.accept()
        conn.settimeout(timeout)
        assert conn.recv(1)[:1] == b"\x16", "no TLS ClientHello"
        return conn

    def close(self):
        self.listener.close()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_request_mid_tls_handshake_when_the_drain_ends_is_answered(start_berth, tmp_path, method):
    upstream = SilentTLS()
    try:
        config = tmp_path / "berth.yaml"
        config.write_text(f"destinations:\n  - match: 127.0.0.1:{upstream.port}\n    tls: {{verify: false}}\n")
        b = start_berth("--config", str(config), "--connect-timeout", "20s", "--drain-timeout", "1s")
        c = connect(b.proxy, timeout=10)
        body = "Content-Length: 3\r\n\r\nabc" if method == "POST" else "\r\n"
        c.sendall(f"{method} http://127.0.0.1:{upstream.port}/ HTTP/1.1\r\nHost: x\r\n{body}".encode())
        held = upstream.accepted()
        b.proc.terminate()
        head, _ = read_response(c)
        assert status_of(head) == 503 and header_of(head, "berth-error") == "shutting-down", head
        c.close()
        held.close()
        assert b.proc.wait(10) == 0
    finally:
        upstream.close()


def test_a_request_whose_connect_outlasts_the_drain_is_answered(start_berth):
    upstream = Unanswered()
    try:
        b = start_berth("--connect-timeout", "20s", "--drain-timeout", "1s")
        c = connect(b.proxy, timeout=10)
        c.sendall(f"GET http://127.0.0.1:{upstream.port}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.3)
        b.proc.terminate()
        head, _ = read_response(c)
        assert status_of(head) == 503 and header_of(head, "berth-error") == "shutting-down", head
        c.close()
        assert b.proc.wait(10) == 0
    finally:
        upstream.close()


def test_a_connect_whose_connection_is_being_made_is_answered_when_the_drain_begins(start_berth):
    upstream = Unanswered()
    try:
        b = start_berth("--connect-port", str(upstream.port), "--connect-timeout", "20s",
                        "--drain-timeout", f"{DRAIN}s")
        c = connect(b.proxy, timeout=10)
        c.sendall(f"CONNECT 127.0.0.1:{upstream.port} HTTP/1.1\r\nHost: 127.0.0.1:{upstream.port}\r\n\r\n".encode())
        time.sleep(0.3)
        started = time.monotonic()
        b.proc.terminate()
        head, _ = read_response(c)
        took = time.monotonic() - started
        assert status_of(head) == 503 and header_of(head, "berth-error") == "shutting-down", head
        assert took < DRAIN / 2, f"answered {took:.1f} s after SIGTERM: at the drain timeout, not when it began"
    finally:
        upstream.close()
