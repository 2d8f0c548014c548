"""The cut matrix's origin side: its responses, every offset worth cutting them at, and an origin (TCP, TLS or a Unix
socket) that sends a case's bytes and then ends the connection the way the case names."""
import os
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Case: ok\r\n\r\nok"


@dataclass(frozen=True)
class Response:
    """One response as the origin sends it: its head, its body with framing, and the payload the framing carries."""
    name: str
    head: bytes
    body: bytes
    payload: bytes
    framing: str  # "length", "chunked" or "close"

    @property
    def wire(self):
        return self.head + self.body


LENGTH = Response("length", b"HTTP/1.1 200 OK\r\nContent-Length: 26\r\nX-Case: length\r\n\r\n",
                  b"abcdefghijklmnopqrstuvwxyz", b"abcdefghijklmnopqrstuvwxyz", "length")
CHUNKED = Response("chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Case: chunked\r\n\r\n",
                   b"a\r\n0123456789\r\n10;ext=1\r\nABCDEFGHIJKLMNOP\r\n0\r\nX-T: 1\r\n\r\n",
                   b"0123456789ABCDEFGHIJKLMNOP", "chunked")
CLOSE = Response("close", b"HTTP/1.1 200 OK\r\nConnection: close\r\nX-Case: close\r\n\r\n",
                 b"the body ends where the close is", b"the body ends where the close is", "close")
# A close-delimited body under a coding berth leaves alone: not re-framed as chunked, so only a reset shows its cut.
CODED = Response("coded", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: x-token\r\nX-Case: coded\r\n\r\n",
                 b"a coded body that a close ends", b"a coded body that a close ends", "close")

# A final response behind an interim one (103), which berth forwards to HTTP/1.1 callers and drops for HTTP/1.0 ones.
EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
INTERIM = Response("interim", EARLY_HINTS + b"HTTP/1.1 200 OK\r\nContent-Length: 26\r\nX-Case: interim\r\n\r\n",
                   LENGTH.body, LENGTH.payload, "length")


def _after(wire, marker):
    return wire.index(marker) + len(marker)


def cuts_of(r):
    """(name, offset) of every cut worth making in `r`: offset bytes of its wire go out, then the ending."""
    w, h = r.wire, len(r.head)
    blank = w.index(b"\r\n\r\n")
    head_cuts = [("status-line", _after(w, b"HTTP/1.1 2")), ("field", _after(w, b"\r\nX-Ca")),
                 ("before-blank-line", blank + 2), ("blank-line-cr", blank + 3)]
    if r.name == "length":
        return head_cuts + [("head-end", h), ("body", h + 13), ("body-but-one", len(w) - 1), ("whole", len(w))]
    if r.name == "interim":
        i = len(EARLY_HINTS)
        return [("in-interim", _after(w, b"HTTP/1.1 10")), ("after-interim", i), ("final-status", i + 10),
                ("head-end", h), ("body", h + 13), ("whole", len(w))]
    if r.name == "chunked":
        return [("head-end", h), ("first-data", _after(w, b"01234")), ("size-digit", _after(w, b"\r\n1")),
                ("size-ext", _after(w, b"10;ext")), ("size-cr", _after(w, b"=1\r")), ("size-lf", _after(w, b"=1\r\n")),
                ("data", _after(w, b"ABCDEFGH")), ("data-end", _after(w, b"MNOP")), ("data-cr", _after(w, b"MNOP\r")),
                ("between-chunks", _after(w, b"MNOP\r\n")), ("last-size", _after(w, b"MNOP\r\n0")),
                ("last-chunk", _after(w, b"MNOP\r\n0\r\n")), ("trailer", _after(w, b"X-T")),
                ("trailer-line", _after(w, b"X-T: 1\r\n")), ("final-cr", len(w) - 1), ("whole", len(w))]
    return [("head-end", h), ("body", h + 15), ("whole", len(w))]


def head_cuts_of(r):
    """The cuts of `r`'s answer to a HEAD request, which is its head alone."""
    return [(n, o) for n, o in cuts_of(r) if o < len(r.head)] + [("whole", len(r.head))]


# Endings: what the origin does after the case's bytes. `clean` ones end a close-delimited body.
ENDINGS = {"fin": "tcp", "rst": "tcp", "silence": "tcp", "tls-cut": "tls", "tls-notify": "tls", "unix-fin": "unix"}
CLEAN = {"fin", "tls-notify", "unix-fin"}


def expected(r, caller, ending, offset):
    """(head whole, origin's message whole, the payload a whole relay carries) for `offset` bytes of `r`, `ending`."""
    if caller == "head":
        return offset >= len(r.head), offset == len(r.head), b""
    head_whole = offset >= len(r.head)
    if r.framing == "close":
        return head_whole, head_whole and ending in CLEAN, r.wire[len(r.head):offset]
    return head_whole, offset == len(r.wire), r.payload


class CutOrigin:
    """Serves each connection in a thread: reads a request, looks its last path segment up in `cases` (id -> (bytes,
    ending, whole)), sends the bytes and ends as told; `/ok` gets a small keep-alive answer. An ending that leaves the
    connection open (`silence` after a whole response) serves the next request on it."""

    def __init__(self, transport, cases, pki=None, directory=None):
        self.transport, self.cases = transport, cases
        if transport == "unix":
            self.path = os.path.join(directory, "origin.sock")
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(self.path)
        else:
            self.listener = socket.socket()
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind(("127.0.0.1", 0))
            self.port = self.listener.getsockname()[1]
        self.ctx = None
        if transport == "tls":
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(pki.server, pki.server_key)
        self.listener.listen(128)
        self.errors = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        sock = raw
        try:
            raw.settimeout(5)
            if self.ctx:
                sock = self.ctx.wrap_socket(raw, server_side=True)
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                case = head.split(b" ")[1].rsplit(b"/", 1)[-1].decode()
                if case == "ok":
                    sock.sendall(OK)
                    continue
                data, ending, whole = self.cases[case]
                self._send(sock, data)
                if not self._end(sock, ending, whole):
                    return
        except (OSError, ssl.SSLError):
            pass
        except Exception as e:  # pragma: no cover - a broken fixture shows in the test's message
            self.errors.append(repr(e))
        finally:
            try:
                sock.close()
            except OSError:
                pass

    @staticmethod
    def _send(sock, data):
        """Sends `data`: bytes in one write, or a list of bytes (a write, over TLS a record, each), pauses (a float, in
        seconds) and "cork"/"uncork" (TCP_CORK: the writes between leave in one segment)."""
        for piece in [data] if isinstance(data, bytes) else data:
            if isinstance(piece, float):
                time.sleep(piece)
            elif piece in ("cork", "uncork"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1 if piece == "cork" else 0)
            elif piece:
                sock.sendall(piece)

    @staticmethod
    def _drain(sock):
        """Reads until berth closes its side (within the socket's timeout), so the close that follows is no reset."""
        try:
            while socket.socket.recv(sock, 65536):
                pass
        except OSError:
            pass

    def _end(self, sock, ending, whole):
        """Ends the connection as `ending` says; True when it stays open for the next request."""
        if ending == "silence":
            if whole:
                return True
            self._drain(sock)
        elif ending == "rst":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif ending == "tls-notify":
            try:
                plain = sock.unwrap()
                plain.shutdown(socket.SHUT_WR)
                self._drain(plain)
            except (OSError, ssl.SSLError):
                pass
        else:
            # fin, unix-fin, tls-cut: a FIN, over TLS with no close_notify before it (SSLSocket.shutdown sends none).
            sock.shutdown(socket.SHUT_WR)
            self._drain(sock)
        return False

    def close(self):
        self.listener.close()
