"""The smuggling tests' one exchange: exact bytes through berth to an origin that records every byte it receives."""
import threading
import time

from berthkit import RawOrigin
from hostile_wire import connect, read_to_end

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class RecordingOrigin:
    """Listens on 127.0.0.1 (a berthkit RawOrigin) and keeps each connection's bytes; answers `ANSWER` once per
    blank line it sees, so a keep-alive proxy goes on (its answers come early for a body, which berth relays as any
    early answer)."""

    def __init__(self):
        self.conns, self.lock = [], threading.Lock()
        self.raw = RawOrigin(self._serve, conn_timeout=5)
        self.authority = self.raw.hostport

    def _serve(self, conn):
        got = bytearray()
        with self.lock:
            self.conns.append(got)
        answered = 0
        while True:
            data = conn.sock.recv(65536)
            if not data:
                return
            with self.lock:
                got += data
            heads = bytes(got).count(b"\r\n\r\n")
            if heads > answered:
                conn.sock.sendall(ANSWER * (heads - answered))
                answered = heads

    def received(self):
        """Every byte received, the connections one after the other."""
        with self.lock:
            return b"".join(bytes(g) for g in self.conns)

    def close(self):
        self.raw.close()


def through_berth(proxy, template, settle=0.3, timeout=3.0):
    """Sends `template` with {A} as the origin's authority; (berth's answer bytes, how it ended, the origin's bytes).
    The caller keeps its side open until berth closes or `timeout` passes, as a keep-alive client does."""
    origin = RecordingOrigin()
    try:
        s = connect(proxy)
        try:
            s.sendall(template.replace("{A}", origin.authority).encode("latin-1"))
            answer, how = read_to_end(s, timeout=timeout)
        finally:
            s.close()
        time.sleep(settle)
        return answer, how, origin.received()
    finally:
        origin.close()
