"""HTTP/1.1 on raw sockets for the integration tests: parsed messages and a socket with bounded, buffered reads."""
import socket

DEFAULT_TIMEOUT = 10.0


class Message:
    """A parsed HTTP response (or request, on the origin side)."""

    def __init__(self, start_line, headers, body=b""):
        self.start_line = start_line
        self.headers = headers  # list of (name, value) in wire order
        self.body = body
        parts = start_line.split(" ", 2)
        self.version = parts[0]
        self.status = int(parts[1]) if parts[0].startswith("HTTP/") and len(parts) > 1 else None
        self.reason = parts[2] if len(parts) > 2 else ""

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def has_header(self, name):
        return any(k.lower() == name.lower() for k, _ in self.headers)

    def __repr__(self):
        return f"<Message {self.start_line!r} headers={self.headers!r} body[{len(self.body)}]={self.body[:80]!r}>"


def parse_head(raw):
    text = raw.decode("latin-1")
    lines = text.split("\r\n")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    return lines[0], headers


class BufferedSocket:
    """A socket with a read buffer and bounded reads."""

    def __init__(self, sock, timeout=DEFAULT_TIMEOUT):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b""
        self.eof = False

    def _fill(self):
        if self.eof:
            return False
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_until(self, delim, limit=1 << 20):
        while delim not in self.buf:
            if len(self.buf) > limit:
                raise AssertionError(f"no {delim!r} within {limit} bytes: {self.buf[:200]!r}")
            if not self._fill():
                raise EOFError(f"connection closed before {delim!r}; buffered {self.buf[:200]!r}")
        idx = self.buf.index(delim) + len(delim)
        out, self.buf = self.buf[:idx], self.buf[idx:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError(f"connection closed after {len(self.buf)} of {n} bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_some(self):
        """Buffered bytes, or one recv's worth; b'' at EOF."""
        if self.buf:
            out, self.buf = self.buf, b""
            return out
        if not self._fill():
            return b""
        out, self.buf = self.buf, b""
        return out

    def read_until_close(self, limit=64 << 20):
        while self._fill():
            if len(self.buf) > limit:
                raise AssertionError("body too long")
        out, self.buf = self.buf, b""
        return out

    def read_until_cut(self, limit=64 << 20):
        """Everything up to the end of the connection, and how it ended: 'fin' (a clean close) or 'reset' (an RST,
        how berth cuts a response whose framing cannot show the cut)."""
        try:
            return self.read_until_close(limit), "fin"
        except ConnectionResetError:
            out, self.buf = self.buf, b""
            return out, "reset"

    def read_chunked(self):
        body = b""
        while True:
            line = self.read_until(b"\r\n")
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while self.read_until(b"\r\n") != b"\r\n":  # trailers
                    pass
                return body
            body += self.read_exact(size)
            assert self.read_exact(2) == b"\r\n", "chunk not followed by CRLF"

    def sendall(self, data):
        self.sock.sendall(data)

    def is_closed(self, timeout=2.0):
        """True if the peer closes (EOF or reset) within timeout with no further bytes; False on timeout.

        Raises AssertionError if unexpected bytes arrive."""
        if self.buf:
            raise AssertionError(f"unexpected extra bytes: {self.buf[:200]!r}")
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        finally:
            try:
                self.sock.settimeout(old)
            except OSError:
                pass
        if data:
            raise AssertionError(f"unexpected extra bytes: {data[:200]!r}")
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
