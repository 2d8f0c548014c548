"""Issue 12: callers that reset or leave at random moments, against refusing, black-holed, slow and healthy upstreams,
must leave /stats equal to the kernel's count of berth's upstream connections, nothing busy, connecting or pending,
and --max-total must bound the requests in flight at the origins."""
import random
import select
import socket
import struct
import subprocess
import threading
import time

import pytest

from berthkit import stats, wait_for
from e2e_helpers import scale

LINGER_RESET = struct.pack("ii", 1, 0)


def reset_close(s):
    """Close with RST (SO_LINGER 0), as a caller that gives up abruptly does."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
    except OSError:
        pass
    s.close()


def no_negative(stats):
    """Every count in the totals and in each upstream's row is >= 0; returns the offending rows."""
    bad = []
    rows = [("totals", stats["totals"])] + [(u["upstream"], u) for u in stats["upstreams"]]
    for name, row in rows:
        for k in ("open", "idle", "busy", "connecting", "pending"):
            if row.get(k, 0) < 0:
                bad.append((name, k, row[k]))
    return bad


def established_to(pid, ports):
    """Established TCP connections of process `pid` whose peer port is in `ports` (from ss, the kernel's view)."""
    out = subprocess.run(["ss", "-Htnp", "state", "established"], capture_output=True, text=True, timeout=10).stdout
    n = 0
    for line in out.splitlines():
        if f"pid={pid}," not in line:
            continue
        fields = line.split()
        peer = fields[3] if len(fields) > 3 else ""
        port = peer.rsplit(":", 1)[-1]
        if port.isdigit() and int(port) in ports:
            n += 1
    return n


def settle(b, timeout=10.0):
    """Waits until nothing is busy, connecting or pending; returns the last /stats."""
    deadline = time.monotonic() + timeout
    while True:
        s = stats(b)
        t = s["totals"]
        if (t["busy"], t["connecting"], t["pending"]) == (0, 0, 0) or time.monotonic() > deadline:
            return s
        time.sleep(0.05)


def test_refused_upstream_with_resetting_callers_keeps_counts_whole(berth):
    """The issue's measurement: callers that send a request for a refusing upstream and reset at once must not
    drive open/connecting negative (a connect slot handed back twice)."""
    b = berth("--max-per-route", "4", "--max-total", "8")
    # A port nothing listens on: bind and close, so connect() is refused.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    dead_port = probe.getsockname()[1]
    probe.close()
    req = f"GET http://127.0.0.1:{dead_port}/x HTTP/1.1\r\nHost: 127.0.0.1:{dead_port}\r\n\r\n".encode()
    def storm(n):
        for _ in range(n):
            s = socket.create_connection(b.proxy, timeout=5)
            s.sendall(req)
            # The RST must land between berth reading the request and writing its 502: set linger after sending
            # (set before, the RST tends to overtake the request) and close at once.
            reset_close(s)

    threads = [threading.Thread(target=storm, args=(scale(750, 2500),)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = settle(b)
    assert no_negative(s) == [], s["totals"]
    t = s["totals"]
    assert (t["open"], t["connecting"], t["busy"], t["pending"]) == (0, 0, 0, 0), t


class Origins:
    """Healthy, slow and black-holed origins on loopback, each counting the requests it is serving at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.serving = set()
        self.max_in_flight = 0
        self.stop = threading.Event()
        self.sockets = []
        self.threads = []
        self.healthy = self._listen(self._serve, delay=0.0)
        self.slow = self._listen(self._serve, delay=0.2)
        # Black hole: accepts (the kernel does, from the backlog) but never reads or answers.
        bh = socket.socket()
        bh.bind(("127.0.0.1", 0))
        bh.listen(1024)
        self.sockets.append(bh)
        self.blackhole = bh.getsockname()[1]
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.refusing = probe.getsockname()[1]
        probe.close()

    def _listen(self, handler, delay):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(256)
        ls.settimeout(0.2)
        self.sockets.append(ls)

        def accept_loop():
            while not self.stop.is_set():
                try:
                    c, _ = ls.accept()
                except socket.timeout:
                    continue
                except OSError:
                    return
                t = threading.Thread(target=handler, args=(c, delay), daemon=True)
                t.start()

        t = threading.Thread(target=accept_loop, daemon=True)
        t.start()
        self.threads.append(t)
        return ls.getsockname()[1]

    @staticmethod
    def _peer_gone(c):
        """Whether berth closed or reset this connection (a readable socket with nothing to read, or an error)."""
        try:
            r, _, _ = select.select([c], [], [], 0)
            return bool(r) and c.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _serve(self, c, delay):
        c.settimeout(5)
        buf = b""
        try:
            while not self.stop.is_set():
                while b"\r\n\r\n" not in buf:
                    d = c.recv(4096)
                    if not d:
                        return
                    buf += d
                _, _, buf = buf.partition(b"\r\n\r\n")
                with self.lock:
                    # A request counts as in flight while its connection is open: one that berth has already closed
                    # (its caller left, or its socket timeout ran out) no longer holds a slot, even if this thread
                    # is still sleeping on it. Prune those before counting the new one.
                    self.serving = {s for s in self.serving if not self._peer_gone(s)}
                    self.serving.add(c)
                    self.max_in_flight = max(self.max_in_flight, len(self.serving))
                try:
                    if delay:
                        time.sleep(delay)
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                finally:
                    with self.lock:
                        self.serving.discard(c)
        except OSError:
            return
        finally:
            c.close()

    def close(self):
        self.stop.set()
        for s in self.sockets:
            s.close()


def test_fault_storm_leaves_stats_equal_to_the_kernel_and_bounds_in_flight(berth):
    """Callers reset or leave at random moments around refusing, black-holed, slow and healthy upstreams."""
    origins = Origins()
    max_total = 8
    b = berth("--max-per-route", "4", "--max-total", str(max_total), "--connect-timeout", "300ms",
              "--socket-timeout", "500ms", "--acquire-timeout", "300ms")
    ports = [origins.healthy, origins.slow, origins.blackhole, origins.refusing]
    rng = random.Random(12)
    seed_note = "seed 12"
    deadline = time.monotonic() + scale(20, 120)
    callers = scale(40, 80)
    per_caller = scale(25, 200)
    errors = []

    def caller(n):
        r = random.Random(rng.random() + n)
        for _ in range(per_caller):
            if time.monotonic() > deadline:
                return
            port = r.choice(ports)
            try:
                s = socket.create_connection(b.proxy, timeout=3)
            except OSError as e:
                errors.append(repr(e))
                continue
            req = f"GET http://127.0.0.1:{port}/x HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
            how = r.random()
            try:
                if how < 0.15:
                    reset_close(s)  # gone before sending anything
                    continue
                if how < 0.3:
                    s.sendall(req[: r.randint(1, len(req) - 1)])  # half a head, then reset
                    reset_close(s)
                    continue
                s.sendall(req)
                if how < 0.55:
                    time.sleep(r.random() * 0.05)  # leave at a random moment of the exchange
                    reset_close(s)
                    continue
                if how < 0.7:
                    s.shutdown(socket.SHUT_WR)  # half-close after a whole request
                s.settimeout(3)
                try:
                    while s.recv(4096):
                        if r.random() < 0.5:
                            break
                except OSError:
                    pass
                if r.random() < 0.5:
                    reset_close(s)
                else:
                    s.close()
            except OSError:
                s.close()

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    negatives = []
    while any(t.is_alive() for t in threads):
        bad = no_negative(stats(b))
        if bad:
            negatives.append(bad)
        time.sleep(0.05)
    for t in threads:
        t.join()
    try:
        s = settle(b)
        assert negatives == [], f"{seed_note}: negative counts seen during the storm: {negatives[:5]}"
        t = s["totals"]
        assert (t["busy"], t["connecting"], t["pending"]) == (0, 0, 0), f"{seed_note}: {t}"
        assert no_negative(s) == [], s
        # /stats and ss are two reads: an origin's FIN landing between them (an idle close) makes them differ for a
        # moment (CI: open 3, established 2). berth must see such a close at once, so the two agree within 2 s, well
        # under the 4 s idle timeout that would otherwise hide a close berth missed.
        def agree():
            return stats(b)["totals"]["open"] == established_to(b.proc.pid, set(ports))
        wait_for(agree, timeout=2.0, what=f"{seed_note}: /stats open equal to the kernel's established")
        s = stats(b)
        t = s["totals"]
        assert t["open"] == t["idle"], t
        for u in s["upstreams"]:
            assert u["open"] == u["idle"] + u["busy"] + u["connecting"], u
        assert origins.max_in_flight <= max_total, \
            f"{seed_note}: {origins.max_in_flight} requests at the origins at once with --max-total {max_total}"
    finally:
        origins.close()
