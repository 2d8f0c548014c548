"""An upgraded (101) connection to a TLS origin that stops reading berth's stream, and asks for key updates meanwhile.

The tunnel relays the caller's bytes into the TLS upstream; with the origin not reading, berth's records back up and
the BIO queues the rest of one (item 157's fix: OpenSSL never holds a record half sent, so its KeyUpdate answers go
behind it). The caller's half-close must reach the origin only after every byte (the tunnel waits for the upstream's
output, now counting that queue, to drain), and the origin's answer after it must come back whole.
"""
import hashlib
import os
import socket
import ssl
import threading
import time

import pytest

from berthkit import RawClient, RawOrigin
from berthkit.tls_key_update import key_update_records, reachable
from berthkit.tls_wire import TLSWire, server_context

STREAM = 6 << 20


def test_an_upgraded_stream_backed_up_into_a_tls_origin_arrives_whole_before_its_end(berth_with, pki):
    if not reachable(pki):
        pytest.skip("CPython's _ssl object layout is not the one this test reads the SSL* from")
    ctx = server_context(pki.server, pki.server_key)

    def serve(conn):
        w = TLSWire(conn.sock, ctx, timeout=20)
        w.handshake()
        while b"\r\n\r\n" not in w.plain:
            try:
                w.plain += w.tls.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            w._feed()
        _, _, rest = w.plain.partition(b"\r\n\r\n")
        w.send(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: probe\r\n\r\n")
        digest, got, end = hashlib.sha256(rest), len(rest), "cut"
        for _ in range(10):  # not reading: berth's stream backs up; key updates asked for meanwhile
            time.sleep(0.05)
            conn.sock.sendall(key_update_records(w))
        while True:
            try:
                data = w.tls.read(65536)
                if not data:  # close_notify (CPython's read returns b"" for it)
                    end = "close_notify"
                    break
                digest.update(data)
                got += len(data)
                continue
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLZeroReturnError:
                end = "close_notify"
                break
            except ssl.SSLEOFError:
                break
            out = w.outgoing.read()
            if out:
                conn.sock.sendall(out)
            try:
                w._feed()
            except EOFError:
                break
        w.send(f"{got} {digest.hexdigest()} {end}".encode())
        conn.sock.sendall(w.close_notify())
        conn.sock.shutdown(socket.SHUT_WR)
        time.sleep(1)

    origin = RawOrigin(serve, conn_timeout=20)
    try:
        b = berth_with(f"  - match: 127.0.0.1\n    tls: {{ca-file: \"{pki.ca}\"}}\n", "--socket-timeout", "5s")
        payload = os.urandom(STREAM)
        c = RawClient(b.proxy, timeout=20)
        try:
            c.sendall(f"GET http://{origin.hostport}/up HTTP/1.1\r\nHost: {origin.hostport}\r\n"
                      "Connection: upgrade\r\nUpgrade: probe\r\n\r\n".encode())
            assert c.read_response().status == 101

            def upload():
                c.sendall(payload)
                c.sock.shutdown(socket.SHUT_WR)

            threading.Thread(target=upload, daemon=True).start()
            answer = c.read_until_close()
            assert answer == f"{STREAM} {hashlib.sha256(payload).hexdigest()} close_notify".encode()
        finally:
            c.close()
    finally:
        origin.close()
