"""A recording origin with a strict RFC 9112 parser: frames what a proxy forwards and logs each request (or why not)."""
import re
import socket
import threading
import time

from berthkit import RawOrigin

TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
REQUEST_LINE = re.compile(rb"^(" + TOKEN + rb") ([\x21-\x7e]+) (HTTP/1\.[01])$")
FIELD_LINE = re.compile(rb"^(" + TOKEN + rb"):[ \t]*((?:[\x21-\x7e\x80-\xff](?:[ \t\x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?)[ \t]*$")
CHUNK_SIZE = re.compile(rb"^([0-9A-Fa-f]{1,16})(?:[ \t]*;[ \t\x21-\x7e\x80-\xff]*)?$")
MAX_HEAD = 128 * 1024
CASE_TAG = re.compile(r"/([cgy]\d{3,5})/")


class Strict(Exception):
    """A message a strict parser refuses: what a proxy must never forward."""


class Reader:
    """A socket's bytes, read as a parser asks for them; EOF raises Strict unless nothing was started."""

    def __init__(self, conn):
        self.conn, self.buf = conn, b""

    def more(self):
        data = self.conn.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self, limit=MAX_HEAD):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise Strict("line too long")
            self.more()
        line, _, self.buf = self.buf.partition(b"\n")
        if not line.endswith(b"\r") or b"\r" in line[:-1]:
            raise Strict(f"bare LF or CR in {line[:40]!r}")
        return line[:-1]

    def exact(self, n):
        while len(self.buf) < n:
            self.more()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def read_fields(r):
    """Field lines up to the blank line, strictly: no obs-fold, no space before the colon, no CTL in a value."""
    fields, size = [], 0
    while True:
        line = r.line()
        size += len(line) + 2
        if size > MAX_HEAD:
            raise Strict("head too large")
        if line == b"":
            return fields
        m = FIELD_LINE.match(line)
        if not m:
            raise Strict(f"bad field line {line[:60]!r}")
        fields.append((m.group(1).decode().lower(), m.group(2)))


def values(fields, name):
    return [v for k, v in fields if k == name]


def read_request(r, same_cl_list=False):
    """One request as a strict parser frames it: a dict, or raises Strict / EOFError (clean end between requests).
    `same_cl_list` takes Content-Length lines and lists of one value as that value (RFC 9112 6.3 lets a recipient)."""
    line = r.line()
    m = REQUEST_LINE.match(line)
    if not m:
        raise Strict(f"bad request line {line[:80]!r}")
    fields = read_fields(r)
    req = {"method": m.group(1).decode(), "target": m.group(2).decode("latin-1"), "version": m.group(3).decode(),
           "fields": [(k, v.decode("latin-1")) for k, v in fields]}
    hosts, cls, tes = values(fields, "host"), values(fields, "content-length"), values(fields, "transfer-encoding")
    if req["version"] == "HTTP/1.1" and len(hosts) != 1:
        raise Strict(f"{len(hosts)} Host fields")
    if tes and cls:
        raise Strict("Content-Length with Transfer-Encoding")
    if tes:
        codings = [c.strip().lower() for c in b",".join(tes).split(b",")]
        if req["version"] == "HTTP/1.0" or codings[-1] != b"chunked" or codings.count(b"chunked") != 1:
            raise Strict(f"Transfer-Encoding {b','.join(tes)!r}")
        req["framing"] = "chunked"
        req["body"], req["trailers"] = read_chunked(r)
    elif cls:
        listed = {v.strip(b" \t") for v in b",".join(cls).split(b",")}
        if same_cl_list and len(listed) == 1:
            cls = [listed.pop()]
        if len(cls) != 1 or not re.fullmatch(rb"0*[0-9]{1,18}", cls[0]):
            raise Strict(f"Content-Length {cls!r}")
        req["framing"] = "length"
        req["body"] = r.exact(int(cls[0]))
    else:
        req["framing"] = "none"
        req["body"] = b""
    return req


def read_chunked(r):
    body = b""
    while True:
        line = r.line(limit=4096)
        m = CHUNK_SIZE.match(line)
        if not m:
            raise Strict(f"bad chunk size line {line[:40]!r}")
        n = int(m.group(1), 16)
        if n == 0:
            return body, [(k, v.decode("latin-1")) for k, v in read_fields(r)]
        body += r.exact(n)
        if r.exact(2) != b"\r\n":
            raise Strict("chunk data not followed by CRLF")


class StrictOrigin:
    """Listens on 127.0.0.1 (a berthkit RawOrigin); `log` gets one entry per request framed ({"req": ...}) or
    refused ({"error": ...}). Each request is answered 200 with `Content-Length: 2` (head-only to HEAD) and an `X-Case`
    naming the case its target does (`/c012/`, `/g00345/`), a refused one 400 and a close."""

    def __init__(self):
        self.log, self.lock = [], threading.Lock()
        self.raw = RawOrigin(self._serve, conn_timeout=5)
        self.port = self.raw.port

    def _note(self, entry):
        with self.lock:
            entry["t"] = time.monotonic()
            self.log.append(entry)

    def _serve(self, conn):
        c = conn.sock
        r = Reader(c)
        try:
            while True:
                try:
                    req = self._one(r, c)
                except EOFError:
                    if r.buf:
                        self._note({"error": "EOF inside a request", "rest": r.buf[:80]})
                    return
                self._note({"req": req})
                body = b"" if req["method"] == "HEAD" else b"ok"
                tag = CASE_TAG.search(req["target"])
                # The case the request names goes back with its answer: an answer reaching another case's caller shows.
                case = f"X-Case: {tag.group(1)}\r\n".encode() if tag else b""
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + case + b"\r\n" + body)
        except Strict as e:
            self._note({"error": str(e), "rest": r.buf[:80]})
            try:
                c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
        except (OSError, socket.timeout) as e:
            if r.buf:
                self._note({"error": f"socket {type(e).__name__} inside a request", "rest": r.buf[:80]})

    def _one(self, r, c):
        # An Expect: 100-continue gets its interim answer once the head is read, so a proxy that waits for it goes on.
        return read_request(_ContinueReader(r, c))

    def since(self, mark):
        """The entries logged after index `mark`."""
        with self.lock:
            return list(self.log[mark:])

    def mark(self):
        with self.lock:
            return len(self.log)

    def close(self):
        self.raw.close()


class _ContinueReader:
    """A Reader that answers `100 Continue` when a body is about to be read after an Expect: 100-continue head."""

    def __init__(self, r, conn):
        self.r, self.conn, self.in_head = r, conn, True
        self.expect = False

    @property
    def buf(self):
        return self.r.buf

    def line(self, limit=MAX_HEAD):
        line = self.r.line(limit)
        if self.in_head and line.lower().startswith(b"expect:") and b"100-continue" in line.lower():
            self.expect = True
        if self.in_head and line == b"":
            self.in_head = False
            if self.expect and not self.r.buf:
                self.conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        return line

    def exact(self, n):
        return self.r.exact(n)
