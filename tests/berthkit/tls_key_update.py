"""A TLS 1.3 origin's KeyUpdate that asks the peer to update too, which Python's ssl module cannot send.

OpenSSL's SSL_key_update is called through ctypes on the SSL object of the origin's own MemoryBIO connection (TLSWire).

CPython's _ssl keeps the SSL* right after its weak reference to the socket; `reachable` says whether that pointer
looks like an SSL object here, so a test skips where the layout differs.
"""
import ctypes
import ssl
import _ssl

from .tls_wire import server_context

_libssl = ctypes.CDLL(_ssl.__file__)
_libssl.SSL_key_update.argtypes = [ctypes.c_void_p, ctypes.c_int]
_libssl.SSL_key_update.restype = ctypes.c_int
_libssl.SSL_version.argtypes = [ctypes.c_void_p]
_libssl.SSL_version.restype = ctypes.c_int


def _ssl_pointer(sslobject):
    """The SSL* under a MemoryBIO SSLObject (CPython's PySSLSocket: the object head, the socket's weakref, then it)."""
    return ctypes.c_void_p.from_address(id(sslobject._sslobj) + 3 * ctypes.sizeof(ctypes.c_void_p)).value


def key_update_records(w):
    """A KeyUpdate that asks the peer to update too, sealed on TLSWire `w` and not sent."""
    assert _libssl.SSL_key_update(_ssl_pointer(w.tls), 1) == 1
    try:
        w.tls.do_handshake()  # sends it
    except ssl.SSLWantReadError:
        pass
    return w.outgoing.read()


def reachable(pki):
    """Whether the SSL* can be read from a server connection made with `pki`'s certificate."""
    ctx = server_context(pki.server, pki.server_key)
    probe = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)
    try:
        return _libssl.SSL_version(_ssl_pointer(probe)) in (0x303, 0x304)
    except (ValueError, OSError):
        return False
