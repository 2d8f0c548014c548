"""The cut matrix's caller side: each kind of request, a reader that follows a response's own framing (and tells a FIN
from a reset from a hang), and the verdict: whole and equal to what the origin sent, or visibly cut."""
import socket
import time
from dataclasses import dataclass, field

# berth's own answers when the head never came whole: the end as the upstream left it, or the socket timeout.
OWN_ANSWERS = {"silence": (504, {"read-timeout"})}
OWN_ANSWER = (502, {"upstream-reset", "invalid-response"})


def request(caller, host, case, timeout=None):
    """The bytes `caller` sends for case `case` at `host`: one request, or two for `pipelined` (the second `/ok`)."""
    method = "HEAD" if caller == "head" else "GET"
    version = "1.0" if caller.startswith("http10") else "1.1"
    extra = {"close": "Connection: close\r\n", "http10-keep-alive": "Connection: keep-alive\r\n"}.get(caller, "")
    if timeout:
        extra += f"Berth-Socket-Timeout: {timeout}\r\n"
    raw = f"{method} http://{host}/cut/{case} HTTP/{version}\r\nHost: {host}\r\n{extra}\r\n"
    if caller == "pipelined":
        raw += f"GET http://{host}/ok HTTP/1.1\r\nHost: {host}\r\n\r\n"
    return raw.encode()


class Wire:
    """A caller socket read on demand until a deadline; `end` becomes 'fin', 'reset' or 'timeout' when reads stop."""

    def __init__(self, sock, timeout):
        self.sock, self.buf, self.end = sock, b"", None
        self.deadline = time.monotonic() + timeout

    def _fill(self):
        if self.end:
            return False
        self.sock.settimeout(max(0.01, self.deadline - time.monotonic()))
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            self.end = "reset"
            return False
        except socket.timeout:
            self.end = "timeout"
            return False
        if not chunk:
            self.end = "fin"
            return False
        self.buf += chunk
        return True

    def until(self, marker):
        """The bytes up to and including `marker`, taken; None if the connection ended first."""
        while marker not in self.buf:
            if not self._fill():
                return None
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def take(self, n):
        """Up to `n` bytes, taken: fewer only if the connection ended first."""
        while len(self.buf) < n and self._fill():
            pass
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self):
        """Everything until the connection ends."""
        while self._fill():
            pass
        out, self.buf = self.buf, b""
        return out


@dataclass
class Seen:
    """One response as the caller read it."""
    status: int = None
    fields: dict = field(default_factory=dict)
    framing: str = None  # "length", "chunked", "close" or "none" (a HEAD's, a 204's)
    payload: bytes = b""
    trailer: dict = field(default_factory=dict)
    complete: bool = False
    problem: str = None  # bytes no framing allows
    head: bytes = b""
    interim: list = field(default_factory=list)
    last_chunk: bool = False  # a chunked body's `0` line came, whole or not: lenient clients stop there


def _fields(lines):
    return {k.strip().lower(): v.strip() for k, _, v in (ln.decode("latin-1").partition(":") for ln in lines if ln)}


def read_response(w, method):
    """Reads one response from `w` by its framing, stopping where it ends (or where the connection does)."""
    s = Seen()
    head = w.until(b"\r\n\r\n")
    if head is None:
        return s
    s.head = head
    lines = head[:-4].split(b"\r\n")
    s.status = int(lines[0].split(b" ")[1])
    s.fields = _fields(lines[1:])
    if method == "HEAD" or s.status in (204, 304) or s.status < 200:
        s.framing, s.complete = "none", True
    elif "chunked" in s.fields.get("transfer-encoding", "").lower():
        s.framing = "chunked"
        _read_chunked(w, s)
    elif "content-length" in s.fields:
        s.framing = "length"
        n = int(s.fields["content-length"])
        s.payload = w.take(n)
        s.complete = len(s.payload) == n
    else:
        s.framing = "close"
        s.payload = w.rest()
        s.complete = w.end == "fin"
    return s


def read_final(w, method):
    """Reads the interim responses (1xx) and the final one after them; the final one, with `interim` their statuses."""
    interim = []
    while True:
        s = read_response(w, method)
        if s.status is None or s.status >= 200:
            s.interim = interim
            return s
        interim.append(s.status)


def _read_chunked(w, s):
    while True:
        line = w.until(b"\r\n")
        if line is None:
            return
        try:
            size = int(line[:-2].split(b";")[0], 16)
        except ValueError:
            s.problem = f"bad chunk size line {line!r}"
            return
        if size == 0:
            s.last_chunk = True
            break
        data = w.take(size)
        s.payload += data
        if len(data) < size:
            return
        crlf = w.take(2)
        if crlf != b"\r\n":
            if len(crlf) == 2 or not b"\r\n".startswith(crlf):
                s.problem = f"chunk data not followed by CRLF: {crlf!r}"
            return
    lines = []
    while True:
        line = w.until(b"\r\n")
        if line is None:
            return
        if line == b"\r\n":
            break
        lines.append(line[:-2])
    s.trailer = _fields(lines)
    s.complete = True
