"""One connection that keeps pipelining requests berth answers itself (proxy or admin) does not keep other connections waiting until it stops."""
import socket
import threading
import time

from berthkit import RawClient, keepalive_loop
from hostile_wire import connect

# A flood long enough that an unfair loop shows (before the fix the other connection waited for all of it), and
# bounded whatever happens.
FLOOD_SECONDS = 20


class Flood:
    """Sends `request` over and over on one connection and reads what comes back, until stopped or FLOOD_SECONDS."""

    def __init__(self, addr, request):
        self.sock = connect(addr, timeout=FLOOD_SECONDS + 10)
        self.block = request * 2000
        self.stopped = threading.Event()
        self.ran_out = False
        self.answered = 0
        self.threads = [threading.Thread(target=self._send, daemon=True), threading.Thread(target=self._read, daemon=True)]

    def _send(self):
        deadline = time.monotonic() + FLOOD_SECONDS
        try:
            while not self.stopped.is_set():
                if time.monotonic() > deadline:
                    self.ran_out = True
                    break
                self.sock.sendall(self.block)
        except OSError:
            pass

    def _read(self):
        try:
            while not self.stopped.is_set():
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    break
                self.answered += chunk.count(b"HTTP/1.1 ")
        except OSError:
            pass

    def __enter__(self):
        for t in self.threads:
            t.start()
        # The flood is under way (berth answers it) before the other connection comes.
        deadline = time.monotonic() + 10
        while self.answered < 10_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.answered >= 10_000, f"the flood got {self.answered} answers"
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for t in self.threads:
            t.join(5)


def test_a_caller_pipelining_answers_berth_gives_does_not_starve_another_caller(berth, raw_origin):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"served")))
    b = berth()
    # OPTIONS with Max-Forwards: 0 is answered by berth itself, connection kept (docs/configuration.md).
    flood = f"OPTIONS http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\nMax-Forwards: 0\r\n\r\n".encode()
    with Flood(b.proxy, flood) as f:
        c = RawClient(b.proxy, timeout=FLOOD_SECONDS + 10)
        c.sendall(f"GET http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        r = c.read_response()
        # Before: the loop served the flood's connection until its sender gave up, the other caller only then.
        assert not f.ran_out, "the other caller was answered only once the flood had stopped"
        c.close()
    assert r.status == 200 and r.body == b"served", r


def test_an_admin_client_pipelining_requests_does_not_starve_a_caller(berth, raw_origin):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"served")))
    b = berth()
    flood = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with Flood(b.admin, flood) as f:
        c = RawClient(b.proxy, timeout=FLOOD_SECONDS + 10)
        c.sendall(f"GET http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        r = c.read_response()
        assert not f.ran_out, "the caller was answered only once the admin flood had stopped"
        c.close()
    assert r.status == 200 and r.body == b"served", r
