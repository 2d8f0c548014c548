"""Scripted raw-socket origins on 127.0.0.1: a handler per accepted connection, closed at teardown; a free port."""
import socket
import threading

from .http_wire import BufferedSocket, Message, parse_head


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
        self.lsock.listen(1024)  # a starved accept thread must not make the kernel drop berth's SYNs (1 s retry)
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
            try:
                conn = ServerConn(sock, self)
            except OSError:  # reset before it was accepted (getpeername fails): the next one must still be served
                sock.close()
                continue
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
