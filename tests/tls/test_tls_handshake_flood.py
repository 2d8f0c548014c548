"""A TLS 1.2 origin that streams HelloRequests ahead of its ServerHello must not hold berth's worker, nor outlast the
handshake timeout: the handshake reads under the same per-turn budget as data, so the timer can fire.

A client ignores a HelloRequest during a handshake (RFC 5246 7.4.1.1), and OpenSSL reads on while the socket has
more, so one SSL_do_handshake processed the stream for as long as it lasted (4.2 s past a 2 s timeout in a probe).
"""
import struct
import threading
import time

from berthkit import RawClient, RawOrigin, get_req
from berthkit.tls_wire import TLSWire, server_context

# One plaintext handshake record holding 4,096 empty HelloRequests; 1,024 of them per send (16 MiB).
HELLO_REQUESTS = (b"\x16\x03\x03" + struct.pack(">H", 16384) + b"\x00\x00\x00\x00" * 4096) * 1024
FLOOD_SECONDS = 6


def test_a_hello_request_stream_ends_at_the_handshake_timeout_without_stalling_the_worker(berth_with, pki):
    ctx = server_context(pki.server, pki.server_key, tls13=False)

    def flooding(conn):
        w = TLSWire(conn.sock, ctx, timeout=30)

        def flood_first(flight):
            deadline = time.monotonic() + FLOOD_SECONDS
            while time.monotonic() < deadline:
                conn.sock.sendall(HELLO_REQUESTS)  # raises once berth has closed the connection
            conn.sock.sendall(flight)

        w.handshake(send=flood_first)
        while w.read_request() is not None:
            w.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nlate!")

    def plain(conn):
        while conn.read_request() is not None:
            conn.respond(200, b"p")

    tls_origin = RawOrigin(flooding, conn_timeout=30)
    plain_origin = RawOrigin(plain, host="127.0.0.2")  # not matched by the TLS destination
    try:
        b = berth_with(f"  - match: 127.0.0.1\n    tls: {{ca-file: \"{pki.ca}\"}}\n", "--workers", "1",
                       "--connect-timeout", "1s", "--socket-timeout", "30s")
        waits = []
        done = threading.Event()

        def pinger():
            c = RawClient(b.proxy, timeout=30)
            try:
                while not done.is_set():
                    started = time.monotonic()
                    assert c.request(get_req(plain_origin.hostport, "/p")).body == b"p"
                    waits.append(time.monotonic() - started)
                    time.sleep(0.005)
            finally:
                c.close()

        t = threading.Thread(target=pinger, daemon=True)
        t.start()
        time.sleep(0.2)
        answer = RawClient(b.proxy, timeout=30)
        try:
            first = len(waits)
            got = answer.request(get_req(tls_origin.hostport, "/f"))
        finally:
            answer.close()
        done.set()
        t.join(30)
        # Before: one SSL_do_handshake read the stream for as long as the socket had more, the worker deaf meanwhile
        # (1.2 s here, where the origin's sending barely kept ahead; 4.2 s, past a 2 s timeout that could not fire,
        # in a probe that queued 1 GB at once).
        assert got.status == 504 and got.header("Berth-Error") == "tls-handshake-timeout", (got.status, got.body)
        during = waits[first:]
        assert during and max(during) < 0.5, f"the other caller waited {max(during or [0]):.2f} s"
    finally:
        tls_origin.close()
        plain_origin.close()
