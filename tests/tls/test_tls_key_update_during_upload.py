"""A TLS 1.3 origin that asks for a key update (KeyUpdate, update_requested) while berth's upload to it is backed up.

An origin that stops reading an upload for a moment (a busy handler, a full queue) and asks for a key update meanwhile
(s2n and BoringSSL servers rotate keys after a volume; any server may ask) is a lawful peer: berth should finish the
upload and relay the answer. OpenSSL 3.0 answers the KeyUpdate from inside the SSL_read that reads it; with a record
of berth's upload still half in the socket (SSL_write said WANT_WRITE), that answer's write failed its own retry check
(`ssl3_write_bytes: bad length`), the connection died, and the caller got 502 `upstream-reset` (adv7; 2 of 2 runs).
Since item 157's fix berth's BIO never asks a write to retry: it queues what the kernel does not take, and the answer
goes behind the upload's record.

The origin sends its KeyUpdates through berthkit.tls_key_update (OpenSSL's SSL_key_update through ctypes); the test
skips where CPython's object layout does not let it reach the SSL object.
"""
import hashlib
import os
import ssl
import threading
import time

import pytest

from berthkit import RawClient, RawOrigin
from berthkit.tls_key_update import key_update_records, reachable
from berthkit.tls_wire import TLSWire, server_context

UPLOAD = 8 << 20


def test_a_key_update_asked_while_the_upload_is_backed_up_does_not_end_the_exchange(berth_with, pki):
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
        _, _, body = w.plain.partition(b"\r\n\r\n")
        digest, got = hashlib.sha256(body), len(body)
        # Not reading: berth's writes back up into a record half sent. Then key updates, asked for.
        for _ in range(20):
            time.sleep(0.05)
            conn.sock.sendall(key_update_records(w))
        while got < UPLOAD:
            try:
                data = w.tls.read(65536)
                digest.update(data)
                got += len(data)
                continue
            except ssl.SSLWantReadError:
                pass
            out = w.outgoing.read()
            if out:
                conn.sock.sendall(out)
            w._feed()
        answer = f"{got} {digest.hexdigest()}".encode()
        conn.sock.sendall(w.seal(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer)))
        time.sleep(1)

    origin = RawOrigin(serve, conn_timeout=20)
    try:
        b = berth_with(f"  - match: 127.0.0.1\n    tls: {{ca-file: \"{pki.ca}\"}}\n", "--socket-timeout", "5s")
        payload = os.urandom(UPLOAD)
        c = RawClient(b.proxy, timeout=20)
        try:
            c.sendall(f"POST http://{origin.hostport}/upload HTTP/1.1\r\nHost: {origin.hostport}\r\n"
                      f"Content-Length: {UPLOAD}\r\n\r\n".encode())
            threading.Thread(target=lambda: c.sendall(payload), daemon=True).start()
            r = c.read_response()
            assert r.status == 200, r.body
            assert r.body == f"{UPLOAD} {hashlib.sha256(payload).hexdigest()}".encode()
        finally:
            c.close()
    finally:
        origin.close()
