"""Admin clients that pipeline many large answers (/metrics, /stats) and never read cost bounded memory.

With 10,000 upstreams known, 16 admin connections each pipelining 50 `GET /metrics` and never reading pushed
berth's resident set up ~210 MiB (~13 MiB a connection, while one /metrics body is ~0.5 MB): a container with a small
memory limit could be killed by one misbehaving scraper. The admin is meant to stop reading (and answering) a client
whose unsent answers pass the high-water mark, and it does: a connection answers the next pipelined request only
once its output is under the mark, so each holds one answer. The memory was the snapshots: every /metrics and /stats
copies every upstream's counters (~12 MiB at 10,000 upstreams) until its body is rendered, and 16 clients asking at
once held 16 copies. Now the snapshots take turns (`SnapshotTurns`), so 16 such clients cost about 16 answers and
one snapshot."""
import re
import socket
import time

import pytest

from berthkit import Berth, LOOPBACK_FLAGS
from hostile_wire import read_response, rss_kib

UPSTREAMS = 10_000
CLIENTS = 16
PIPELINED = 50


def _vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(key)


def _pause_many(b, n):
    """Makes `n` upstreams known with POST /pause, pipelined in batches on one connection."""
    s = socket.create_connection(b.admin, timeout=30)
    batch, buf = 200, b""
    for start in range(0, n, batch):
        reqs = b"".join(f"POST /pause?upstream=127.{1 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}:80 HTTP/1.1\r\n"
                        f"Host: 127.0.0.1\r\n\r\n".encode() for i in range(start, min(n, start + batch)))
        s.sendall(reqs)
        for _ in range(start, min(n, start + batch)):
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                assert chunk, buf
                buf += chunk
            head, _, buf = buf.partition(b"\r\n\r\n")
            assert b" 200 " in head.split(b"\r\n")[0], head
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            while len(buf) < length:
                buf += s.recv(65536)
            buf = buf[length:]
    s.close()


@pytest.mark.parametrize("path", ["/metrics", "/stats"])
def test_pipelining_clients_that_never_read_hold_about_one_answer_each(path):
    b = Berth([*LOOPBACK_FLAGS, "--workers", "1"])
    try:
        _pause_many(b, UPSTREAMS)
        # One answer fetched whole: its size, and the allocator's warm-up, before the baseline.
        s = socket.create_connection(b.admin, timeout=30)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        _, body = read_response(s)
        s.close()
        answer = len(body)
        assert answer > 256 * 1024, answer  # larger than the high-water mark, else this proves nothing
        time.sleep(0.5)
        before = rss_kib(b.pid)
        held = []
        for _ in range(CLIENTS):
            x = socket.socket()
            x.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            x.connect(b.admin)
            x.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() * PIPELINED)
            held.append(x)
        # Let berth answer whatever it will for clients that never read (it stops once their output passes the mark).
        peak, last, still = 0, -1, 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and still < 8:
            time.sleep(0.25)
            now = rss_kib(b.pid)
            peak = max(peak, now, _vm(b.pid, "VmHWM"))
            still = still + 1 if abs(now - last) < 256 else 0
            last = now
        for x in held:
            x.close()
        grown_kib = peak - before
        print(f"{path}: answer {answer} bytes, RSS grew {grown_kib} KiB")
        # One answer per connection (the one its output holds) and one snapshot being taken at a time, with room to
        # spare. Before: ~200 MiB for /metrics (16 snapshots of 10,000 pools at once beside 16 × 0.5 MB answers),
        # ~460 MiB for /stats (16 × 17 MB answers and the same 16 snapshots).
        bound_kib = CLIENTS * answer * 11 // 10 // 1024 + 48 * 1024
        assert grown_kib < bound_kib, (f"RSS grew {grown_kib} KiB for {CLIENTS} clients that never read "
                                       f"({path} is {answer} bytes; bound {bound_kib} KiB)")
    finally:
        b.stop()


def _read_answers(s, n):
    """`n` Content-Length answers read whole from `s`: their status lines."""
    buf, statuses = b"", []
    while len(statuses) < n:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            assert chunk, (statuses, buf[:200])
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        while len(buf) < length:
            chunk = s.recv(65536)
            assert chunk, statuses
            buf += chunk
        buf = buf[length:]
        statuses.append(head.split(b"\r\n")[0])
    return statuses


def test_snapshots_taking_turns_answer_everyone_even_after_clients_left():
    """Turns never stall: clients that leave while waiting (or mid-answer) are skipped, the rest are all answered."""
    b = Berth([*LOOPBACK_FLAGS, "--workers", "2", "--max-total", "2", "--max-per-route", "2", "--max-pending", "2"])
    try:
        _pause_many(b, 2_000)
        mix = [f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
               for p in ("/stats", "/metrics", "/stats?limit=5", "/stats?upstream=nowhere.invalid:80", "/metrics")]
        quitters = [socket.create_connection(b.admin, timeout=30) for _ in range(6)]
        readers = [socket.create_connection(b.admin, timeout=30) for _ in range(6)]
        for s in quitters + readers:
            s.sendall(b"".join(mix))
        for s in quitters:
            s.close()
        for s in readers:
            statuses = _read_answers(s, len(mix))
            assert [line.split(b" ")[1] for line in statuses] == [b"200", b"200", b"200", b"404", b"200"], statuses
            s.close()
        s = socket.create_connection(b.admin, timeout=30)
        s.sendall(mix[0])
        assert _read_answers(s, 1)[0].split(b" ")[1] == b"200"
        s.close()
    finally:
        b.stop()
