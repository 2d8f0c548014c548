"""TLS on a raw origin socket through memory BIOs, so a test decides which ciphertext bytes go out and when.

`TLSWire(sock, ctx)` runs the server side of the handshake over an accepted socket (a RawOrigin handler's
`conn.sock`); afterwards `seal(data)` returns the records `data` becomes without sending them, so a test can cut a
record in half, stall inside one, send one byte a record, or follow a body with an alert, a reset or nothing.
"""
import socket
import ssl
import struct


def server_context(cert, key, tls13=True, num_tickets=2):
    """A server context for `cert`/`key`: TLS 1.2 only unless `tls13`, and `num_tickets` TLS 1.3 tickets issued
    after the handshake."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if not tls13:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.num_tickets = num_tickets
    return ctx


class TLSWire:
    """The server side of one TLS connection on a plain socket; nothing is sent unless a method says so."""

    def __init__(self, sock, ctx, timeout=15):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.incoming, self.outgoing, server_side=True)
        self.plain = b""

    def handshake(self, send=None):
        """Completes the handshake; `send(bytes)` replaces sendall for the server's flights (to drip them)."""
        send = send or self.sock.sendall
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                out = self.outgoing.read()
                if out:
                    send(out)
                self._feed()
        out = self.outgoing.read()
        if out:
            send(out)

    def _feed(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the client closed")
        self.incoming.write(data)

    def read_request(self):
        """The next request's head and body (Content-Length only) as bytes; None when the client closed first."""
        while b"\r\n\r\n" not in self.plain:
            try:
                self.plain += self.tls.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLZeroReturnError:
                return None
            out = self.outgoing.read()
            if out:
                self.sock.sendall(out)
            try:
                self._feed()
            except (EOFError, OSError):
                return None
        head, _, rest = self.plain.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(rest) < length:
            try:
                rest += self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._feed()
        self.plain = rest[length:]
        return head + b"\r\n\r\n" + rest[:length]

    def seal(self, data, record=16384):
        """The ciphertext of `data` in records of at most `record` plaintext bytes, not sent."""
        for i in range(0, len(data), record):
            self.tls.write(data[i:i + record])
        return self.outgoing.read()

    def send(self, data, record=16384):
        """Seals `data` and sends it."""
        self.sock.sendall(self.seal(data, record))

    def close_notify(self):
        """The close_notify alert's record, not sent."""
        try:
            self.tls.unwrap()
        except ssl.SSLWantReadError:
            pass
        return self.outgoing.read()

    def reset(self):
        """Closes with an RST (SO_LINGER 0), no close_notify."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
