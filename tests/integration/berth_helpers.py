"""Helpers for berth's black-box integration tests: raw HTTP/1.1 clients and scripted raw-socket origins.

Everything here talks to 127.0.0.1 only, every wait is bounded, and every socket/thread is closed at teardown.
"""
import json
import socket
import threading
import time
import urllib.request

from waiting import wait_for  # noqa: F401  (tests/waiting.py, shared with tests/ops)

DEFAULT_TIMEOUT = 10.0


# --------------------------------------------------------------------------------------------------- admin/stats

def get_stats(berth, timeout=5):
    with urllib.request.urlopen(f"{berth.admin_url}/stats", timeout=timeout) as resp:
        return json.loads(resp.read())


def upstream_stats(berth, hostport):
    for up in get_stats(berth)["upstreams"]:
        if up["upstream"] == hostport:
            return up
    return None


def wait_upstream(berth, hostport, predicate, timeout=5.0, what="upstream stats"):
    """Wait until upstream_stats(...) exists and predicate(stats) holds; returns the stats."""
    holder = {}

    def check():
        up = upstream_stats(berth, hostport)
        holder["last"] = up
        return up if (up is not None and predicate(up)) else None

    try:
        return wait_for(check, timeout=timeout, what=what)
    except AssertionError:
        raise AssertionError(f"timed out waiting for {what}; last stats: {json.dumps(holder.get('last'))}")


# ----------------------------------------------------------------------------------------------- HTTP parsing

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


class RawClient(BufferedSocket):
    """A raw caller connection to the proxy."""

    def __init__(self, addr, timeout=DEFAULT_TIMEOUT):
        super().__init__(socket.create_connection(addr, timeout=timeout), timeout)

    def read_response(self, method="GET", allow_interim=False):
        """Read one response. 1xx responses are returned as-is when allow_interim, else skipped."""
        while True:
            start, headers = parse_head(self.read_until(b"\r\n\r\n")[:-4])
            msg = Message(start, headers)
            if msg.status is None:
                raise AssertionError(f"bad status line {start!r}")
            if 100 <= msg.status < 200:
                if allow_interim or msg.status == 101:
                    return msg
                continue
            break
        if method == "HEAD" or msg.status in (204, 304) or (method == "CONNECT" and 200 <= msg.status < 300):
            return msg
        te = msg.header("Transfer-Encoding")
        if te is not None and "chunked" in te.lower():
            msg.body = self.read_chunked()
        elif msg.header("Content-Length") is not None:
            msg.body = self.read_exact(int(msg.header("Content-Length")))
        else:
            msg.body = self.read_until_close()
        return msg

    def request(self, data, method="GET"):
        self.sendall(data)
        return self.read_response(method)


def raw_request(proxy, data, method="GET", timeout=DEFAULT_TIMEOUT):
    c = RawClient(proxy, timeout)
    try:
        return c.request(data, method)
    finally:
        c.close()


def get_req(hostport, path="/", extra=b"", method="GET", version="HTTP/1.1", body=b""):
    """Bytes of an absolute-form request to hostport with a Host header."""
    head = f"{method} http://{hostport}{path} {version}\r\nHost: {hostport}\r\n".encode() + extra
    if body:
        head += f"Content-Length: {len(body)}\r\n".encode()
    return head + b"\r\n" + body


# ------------------------------------------------------------------------------------------ raw-socket origins

class ServerConn(BufferedSocket):
    """The origin side of one accepted connection."""

    def __init__(self, sock, origin):
        super().__init__(sock, timeout=origin.conn_timeout)
        self.origin = origin
        self.peer = sock.getpeername()

    def read_request_head(self):
        """Returns a Message for the next request head, or None if the peer closed cleanly first."""
        try:
            raw = self.read_until(b"\r\n\r\n")
        except EOFError:
            if self.buf:
                raise
            return None
        start, headers = parse_head(raw[:-4])
        msg = Message(start, headers)
        parts = start.split(" ")
        msg.method, msg.target = parts[0], parts[1] if len(parts) > 1 else ""
        msg.version = parts[2] if len(parts) > 2 else ""
        self.origin._record(self, msg)
        return msg

    def read_body(self, msg):
        te = msg.header("Transfer-Encoding")
        if te is not None and "chunked" in te.lower():
            msg.body = self.read_chunked()
        elif msg.header("Content-Length") is not None:
            msg.body = self.read_exact(int(msg.header("Content-Length")))
        return msg.body

    def read_request(self):
        msg = self.read_request_head()
        if msg is not None:
            self.read_body(msg)
        return msg

    def respond(self, status=200, body=b"", headers=(), reason="OK"):
        head = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n"
        for k, v in headers:
            head += f"{k}: {v}\r\n"
        self.sendall(head.encode() + b"\r\n" + body)


class RawOrigin:
    """A loopback TCP server that runs handler(conn: ServerConn) in a thread per accepted connection."""

    def __init__(self, handler, host="127.0.0.1", conn_timeout=15.0):
        self.handler = handler
        self.conn_timeout = conn_timeout
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, 0))
        self.lsock.listen(128)
        self.lsock.settimeout(0.2)
        self.host = host
        self.port = self.lsock.getsockname()[1]
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.conns = []
        self.threads = []
        self.requests = []  # (client_port, Message head)
        self.errors = []
        self.active = 0
        self.max_active = 0
        self.accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.accept_thread.start()

    @property
    def hostport(self):
        return f"{self.host}:{self.port}"

    @property
    def connections(self):
        with self.lock:
            return len(self.conns)

    def _record(self, conn, msg):
        with self.lock:
            self.requests.append((conn.peer[1], msg))

    def enter(self):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def leave(self):
        with self.lock:
            self.active -= 1

    def _accept_loop(self):
        while not self.stopped.is_set():
            try:
                sock, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn = ServerConn(sock, self)
            t = threading.Thread(target=self._run, args=(conn,), daemon=True)
            with self.lock:
                self.conns.append(conn)
                self.threads.append(t)
            t.start()

    def _run(self, conn):
        try:
            self.handler(conn)
        except (EOFError, OSError, socket.timeout):
            pass
        except Exception as e:  # pragma: no cover - surfaced via .errors
            self.errors.append(repr(e))
        finally:
            conn.close()

    def close(self):
        self.stopped.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        self.accept_thread.join(2)
        with self.lock:
            conns, threads = list(self.conns), list(self.threads)
        for c in conns:
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        for t in threads:
            t.join(2)


def keepalive_loop(respond):
    """Handler that reads requests in a loop and calls respond(conn, msg) for each."""

    def handler(conn):
        while not conn.origin.stopped.is_set():
            msg = conn.read_request()
            if msg is None:
                return
            respond(conn, msg)

    return handler


def echo_handler(conn):
    """Raw byte echo until EOF (for CONNECT tunnels)."""
    while not conn.origin.stopped.is_set():
        data = conn.read_some()
        if not data:
            return
        conn.sendall(data)


def free_port():
    """A loopback port with (momentarily) no listener."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_threads(fns, timeout=60):
    """Run callables concurrently; returns their results (exceptions are returned, not raised)."""
    results = [None] * len(fns)

    def wrap(i, fn):
        try:
            results[i] = fn()
        except Exception as e:  # noqa: BLE001
            results[i] = e

    threads = [threading.Thread(target=wrap, args=(i, fn), daemon=True) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"threads still running after {timeout}s"
    return results
