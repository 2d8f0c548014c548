"""Hostile admin clients that pipeline: requests served from a loop with a budget, and a client that does not read is not read."""
import socket
import threading
import time

from hostile_wire import connect, rss_kib, status_of

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
# Answered with 404: the one request whose answer differs, last in the stream, shows the answers come in order.
LAST = b"GET /no-such-endpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
SEND = 8 << 20


def alive(b):
    """berth still runs and its admin answers /healthz on a fresh connection."""
    assert b.proc.poll() is None, f"berth exited with {b.proc.returncode}"
    s = connect(b.admin)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
        return status_of(raw)
    finally:
        s.close()


class Sender(threading.Thread):
    """Sends `data` with blocking sends; `sent` counts the bytes the kernel took."""

    def __init__(self, sock, data):
        super().__init__(daemon=True)
        self.sock, self.data, self.sent, self.error = sock, data, 0, None

    def run(self):
        view = memoryview(self.data)
        try:
            while self.sent < len(view):
                self.sent += self.sock.send(view[self.sent:self.sent + 65536])
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.error = e


def read_answers(sock, timeout=120):
    """Reads answers until the peer closes; returns the statuses in order (each answer framed by Content-Length)."""
    buf = bytearray()
    statuses = []
    deadline = time.monotonic() + timeout
    sock.settimeout(5)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = bytes(buf[:end]).decode("latin-1")
            assert head.startswith("HTTP/1.1 "), head[:200]
            length = None
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v)
            assert length is not None, head
            if len(buf) < end + 4 + length:
                break
            statuses.append(int(head.split(" ", 2)[1]))
            del buf[:end + 4 + length]
    assert not buf, f"{len(buf)} bytes after the last whole answer: {bytes(buf[:200])!r}"
    return statuses


def test_pipelined_healthz_from_a_client_that_does_not_read(berth):
    b = berth()
    base = rss_kib(b.proc.pid)
    count = (SEND - len(LAST)) // len(HEALTHZ)
    s = connect(b.admin, timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sender = Sender(s, HEALTHZ * count + LAST)
    sender.start()
    # Wait until berth stops taking bytes (it must, as nobody reads its answers) or everything went; bounded.
    deadline = time.monotonic() + 30
    last, still = -1, 0
    while time.monotonic() < deadline and sender.is_alive() and still < 10:
        time.sleep(0.2)
        still = still + 1 if sender.sent == last else 0
        last = sender.sent
        assert b.proc.poll() is None, f"berth died (exit {b.proc.returncode}) after {sender.sent} bytes"
    grown = rss_kib(b.proc.pid) - base
    assert alive(b) == 200
    assert sender.sent < SEND, "berth read all 8 MiB while its answers went unread: it is not holding the client"
    assert grown < 32 * 1024, f"RSS grew {grown} KiB for {sender.sent} bytes sent and no answer read"
    statuses = read_answers(s)
    sender.join(30)
    s.close()
    assert sender.error is None, sender.error
    assert len(statuses) == count + 1, (len(statuses), count + 1)
    assert set(statuses[:-1]) == {200} and statuses[-1] == 404, (set(statuses[:-1]), statuses[-1])
    assert alive(b) == 200
