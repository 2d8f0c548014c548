"""A TLS 1.3 origin that asks for a key update (KeyUpdate, update_requested) while berth's upload to it is backed up.

An origin that stops reading an upload for a moment (a busy handler, a full queue) and asks for a key update meanwhile
(s2n and BoringSSL servers rotate keys after a volume; any server may ask) is a lawful peer: berth should finish the
upload and relay the answer. OpenSSL 3.0 answers the KeyUpdate from inside the SSL_read that reads it; with a record
of berth's upload still half in the socket (SSL_write said WANT_WRITE), that answer's write failed its own retry check
(`ssl3_write_bytes: bad length`), the connection died, and the caller got 502 `upstream-reset` (adv7; 2 of 2 runs).
Since item 157's fix berth's BIO never asks a write to retry: it queues what the kernel does not take, and the answer
goes behind the upload's record.

Python's ssl module cannot send a KeyUpdate, so the origin calls OpenSSL's SSL_key_update through ctypes on the SSL
object of its own MemoryBIO connection (CPython's _ssl keeps the SSL* right after its weak reference to the socket);
the test skips where that pointer does not look like an SSL object.
"""
import ctypes
import hashlib
import os
import ssl
import threading
import time
import _ssl

import pytest

from berthkit import RawClient, RawOrigin
from berthkit.tls_wire import TLSWire, server_context

UPLOAD = 8 << 20
_libssl = ctypes.CDLL(_ssl.__file__)
_libssl.SSL_key_update.argtypes = [ctypes.c_void_p, ctypes.c_int]
_libssl.SSL_key_update.restype = ctypes.c_int
_libssl.SSL_version.argtypes = [ctypes.c_void_p]
_libssl.SSL_version.restype = ctypes.c_int


def _ssl_pointer(sslobject):
    """The SSL* under a MemoryBIO SSLObject (CPython's PySSLSocket: the object head, the socket's weakref, then it)."""
    return ctypes.c_void_p.from_address(id(sslobject._sslobj) + 3 * ctypes.sizeof(ctypes.c_void_p)).value


def _key_update_records(w):
    """A KeyUpdate that asks the peer to update too, sealed and not sent."""
    assert _libssl.SSL_key_update(_ssl_pointer(w.tls), 1) == 1
    try:
        w.tls.do_handshake()  # sends it
    except ssl.SSLWantReadError:
        pass
    return w.outgoing.read()


def _reachable(pki):
    ctx = server_context(pki.server, pki.server_key)
    probe = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)
    try:
        return _libssl.SSL_version(_ssl_pointer(probe)) in (0x303, 0x304)
    except (ValueError, OSError):
        return False


def test_a_key_update_asked_while_the_upload_is_backed_up_does_not_end_the_exchange(berth_with, pki):
    if not _reachable(pki):
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
            conn.sock.sendall(_key_update_records(w))
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
