"""A `/pause?drain=1h` whose admin connection closes before its answer: its wait (a timer for the whole drain= time and
a waiter on each busy pool, on every worker) stayed until the pool drained or the hour was over. An admin client
that connects, asks and hangs up in a loop grew berth by ~350 bytes per request for as long as the pool stayed busy
(20,000 requests: +6.9 MiB). A wait whose connection has closed is now dropped by the next one registered."""
import socket
import threading
import time

from berthkit import admin_json, wait_for

ROUNDS = 30_000


def _rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_abandoned_drain_waits_do_not_pile_up(berth):
    origin = socket.socket()
    origin.bind(("127.0.0.1", 0))
    origin.listen(16)
    held = []
    threading.Thread(target=lambda: held.append(origin.accept()), daemon=True).start()  # accepts, never answers
    hp = f"127.0.0.1:{origin.getsockname()[1]}"
    b = berth("--socket-timeout", "10m", "--workers", "2")
    busy = socket.create_connection(b.proxy)
    try:
        busy.sendall(f"GET http://{hp}/ HTTP/1.1\r\nHost: {hp}\r\n\r\n".encode())
        wait_for(lambda: any(u["upstream"] == hp and u["busy"] == 1 for u in admin_json(b, "GET", "/stats")["upstreams"]),
                 timeout=5, what="the busy request")
        ask = f"POST /pause?upstream={hp}&drain=1h HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()

        def abandon(n):
            for _ in range(n):
                a = socket.create_connection(b.admin)
                a.sendall(ask)
                a.close()

        abandon(1000)  # warm-up: the allocator's arenas and the tables reach their size
        time.sleep(0.5)
        before = _rss_kib(b.pid)
        abandon(ROUNDS)
        time.sleep(1)
        grown = _rss_kib(b.pid) - before
        assert grown < 3 * 1024, f"RSS grew by {grown} KiB for {ROUNDS} abandoned /pause?drain=1h"
        # A wait whose client stays is still answered when the pool drains.
        a = socket.create_connection(b.admin, timeout=10)
        a.sendall(ask)
        time.sleep(0.3)
        held[0][0].sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")  # the busy request ends
        answer = a.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200") and b'"state":"paused"' in answer, answer
        a.close()
    finally:
        busy.close()
        for conn, _ in held:
            conn.close()
        origin.close()
