"""Callers kept while the other workers are asked for room (at max-callers, up to 16 per worker) were outside the
descriptor budget: berth's own reserve (32 + 8 per worker, ~6 + 6 per worker used) could not hold them, so a flood at
the limit with --workers 8 filled the whole RLIMIT_NOFILE (300 of 300), the admin's 16 connections and max-total's
upstream connections included. They now have a share of their own in `max-callers auto`."""
import os
import resource
import socket
import threading
import time

from berthkit import admin

NOFILE = 300
WORKERS = 8
MAX_TOTAL = 16
ADMIN_CONNECTIONS = 16


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def max_callers(b):
    line = next(l for l in b.stderr_text().splitlines() if "max_callers=" in l)
    return int(line.split("max_callers=")[1].split()[0])


def healthz(b):
    return admin(b, "GET", "/healthz", timeout=3).status


def test_a_flood_at_the_limit_leaves_the_admin_and_upstream_shares(berth, raw_origin):
    o = raw_origin(lambda conn: conn.read_request())
    b = berth("--workers", str(WORKERS), "--max-total", str(MAX_TOTAL), "--max-per-route", str(MAX_TOTAL),
              "--header-timeout", "30s", popen_kw={"preexec_fn": low_nofile})
    time.sleep(0.3)  # the start line
    head = f"GET http://{o.hostport}/x HTTP/1.1\r\nHost: {o.hostport}\r\n".encode()
    busy = []
    stop = threading.Event()
    peak = [0]

    def flood():
        # Bounded: until stopped, bursts of 100 connects (each kept while the workers look for room, then refused).
        while not stop.is_set():
            burst = []
            for _ in range(100):
                try:
                    burst.append(socket.create_connection(b.proxy, timeout=2))
                except OSError:
                    break
            try:
                peak[0] = max(peak[0], len(os.listdir(f"/proc/{b.pid}/fd")))
            except OSError:
                pass
            for s in burst:
                s.close()

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(3)]
    try:
        # Every place taken by a caller mid-head: none is idle, so none gives way to the flood.
        for _ in range(max_callers(b)):
            s = socket.create_connection(b.proxy)
            s.sendall(head)
            busy.append(s)
        for t in threads:
            t.start()
        answered = [healthz(b) for _ in range(20) if not time.sleep(0.15)]
        stop.set()
        for t in threads:
            t.join(10)
        assert answered == [200] * 20
        assert peak[0] <= NOFILE - ADMIN_CONNECTIONS - MAX_TOTAL, \
            f"berth held {peak[0]} of {NOFILE} descriptors: the admin's and the upstreams' shares were taken"
    finally:
        stop.set()
        for s in busy:
            s.close()
