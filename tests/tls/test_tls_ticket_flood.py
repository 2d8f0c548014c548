"""A TLS origin that floods session tickets must not hold its worker: other callers on that worker keep being answered
while berth works through the flood, a bounded amount of it per turn of the event loop.

OpenSSL's read processes records that carry no data (tickets) for as long as the socket has more, so one read of a
connection receiving 200,000 tickets (51 MB) ran for seconds while every other connection of the worker waited.
"""
import threading
import time

from berthkit import RawClient, RawOrigin, get_req
from berthkit.tls_wire import TLSWire, server_context

TICKETS = 200_000


def test_a_ticket_flood_does_not_stall_the_other_callers_of_its_worker(berth_with, pki):
    ctx = server_context(pki.server, pki.server_key, num_tickets=TICKETS)
    flood_sent = threading.Event()

    def flooding(conn):
        w = TLSWire(conn.sock, ctx, timeout=60)
        w.handshake()
        flood_sent.set()
        while w.read_request() is not None:
            w.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nflood")

    def plain(conn):
        while conn.read_request() is not None:
            conn.respond(200, b"p")

    tls_origin = RawOrigin(flooding, conn_timeout=60)
    plain_origin = RawOrigin(plain, host="127.0.0.2")  # not matched by the TLS destination
    try:
        b = berth_with(f"  - match: 127.0.0.1\n    tls: {{ca-file: \"{pki.ca}\"}}\n", "--workers", "1",
                       "--socket-timeout", "60s")
        waits = []
        done = threading.Event()

        def pinger():
            c = RawClient(b.proxy, timeout=60)
            try:
                while not done.is_set():
                    started = time.monotonic()
                    assert c.request(get_req(plain_origin.hostport, "/p")).body == b"p"
                    waits.append((started, time.monotonic() - started))
                    time.sleep(0.005)
            finally:
                c.close()

        t = threading.Thread(target=pinger, daemon=True)
        t.start()
        flood = RawClient(b.proxy, timeout=60)
        try:
            flood_started = time.monotonic()
            assert flood.request(get_req(tls_origin.hostport, "/f")).body == b"flood"
            flood_took = time.monotonic() - flood_started
        finally:
            flood.close()
        done.set()
        t.join(60)
        assert flood_sent.is_set()
        during = [w for s, w in waits if s >= flood_started]
        assert during, "no request of the other caller was answered while the flood lasted"
        # Before: one read took the flood for as long as the origin's sending kept ahead of it, and the other caller
        # waited 1.1-1.9 s at once; a bounded read per turn answers it in tens of milliseconds.
        assert max(during) < 0.5, f"waited {max(during):.2f} s during a {flood_took:.2f} s flood"
    finally:
        tls_origin.close()
        plain_origin.close()
