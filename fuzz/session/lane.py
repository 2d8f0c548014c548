"""The session fuzzer's raw upstream (one lane, its own port): answers every request head with the current case."""
import socket
import ssl
import struct
import threading
import time

from berthkit.llhttp_views import ReqCounter


class Lane:
    """One raw upstream (its own port) whose connections answer every request head with the current script."""

    def __init__(self, tls=None):
        self.tls = tls  # an ssl.SSLContext (server side) when the upstream speaks TLS
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.lsock.settimeout(0.2)
        self.hp = f"127.0.0.1:{self.lsock.getsockname()[1]}"
        self.lock = threading.Lock()
        self.case = None
        self.execution = 0
        self.parsed = []  # (execution, target or None for a parse error): every request head the upstream parses
        self.stop = threading.Event()
        self.conns = []
        self.next_id = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                cid = self.next_id
                self.next_id += 1
                self.conns.append(s)
            threading.Thread(target=self._serve, args=(s, cid), daemon=True).start()

    def _serve(self, s, cid):
        s.settimeout(3.0)
        if self.tls is not None:
            try:
                s = self.tls.wrap_socket(s, server_side=True)
            except (ssl.SSLError, OSError):
                s.close()
                return
        pending = b""
        parser = ReqCounter()  # one parser per connection: bytes are framed as one continuous stream
        broken = False
        try:
            while not self.stop.is_set():
                data = s.recv(65536)
                if not data:
                    return
                with self.lock:
                    execution = self.execution
                    case = self.case
                if not broken:
                    before = len(parser.targets)
                    try:
                        parser.execute(data)
                    except Exception:  # noqa: BLE001 - llhttp refuses the stream from here on
                        broken = True
                    with self.lock:
                        self.parsed += [(execution, t) for t in parser.targets[before:]]
                        if broken:
                            self.parsed.append((execution, None))
                pending += data
                if case is None or b"\r\n\r\n" not in pending:
                    continue
                pending = pending.split(b"\r\n\r\n", 1)[1][:0]  # answer once per head seen (bodies ignored)
                resp = case["response"]
                bounds = [0] + case["response_cuts"] + [len(resp)]
                for i in range(len(bounds) - 1):
                    time.sleep(case["response_delays"][i])
                    s.sendall(resp[bounds[i]:bounds[i + 1]])
                if case["upstream_end"] == "close":
                    return
                if case["upstream_end"] == "rst":
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
        except OSError:
            return
        finally:
            try:
                s.close()
            except OSError:
                pass

    def take(self, execution):
        """(targets the upstream parsed during this execution, number of streams llhttp refused)."""
        with self.lock:
            mine = [t for e, t in self.parsed if e == execution]
            self.parsed = [(e, t) for e, t in self.parsed if e > execution]
        return [t for t in mine if t is not None], sum(1 for t in mine if t is None)

    def close(self):
        self.stop.set()
        self.lsock.close()
        with self.lock:
            for s in self.conns:
                try:
                    s.close()
                except OSError:
                    pass
