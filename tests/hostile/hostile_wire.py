"""Raw-socket tools the hostile tests share: send exact bytes, read until close, tell a reset from a clean FIN."""
import socket
import threading
import time

from berthkit import Berth


def connect(addr, timeout=5.0):
    """A raw TCP (host, port) or Unix (path) connection with `timeout` on every call."""
    if isinstance(addr, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(addr)
        return s
    return socket.create_connection(addr, timeout=timeout)


def read_to_end(sock, limit=64 << 20, timeout=10.0):
    """Everything the peer sends until it closes: (bytes, how) with how 'fin', 'reset' or 'timeout'."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while len(data) < limit:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(data), "reset"
        except socket.timeout:
            return bytes(data), "timeout"
        if not chunk:
            return bytes(data), "fin"
        data += chunk
    return bytes(data), "limit"


def status_of(raw):
    """The status code of the first response in `raw`, or None."""
    if not raw.startswith(b"HTTP/1."):
        return None
    return int(raw.split(b" ", 2)[1])


def header_of(raw, name):
    """The value of header `name` in the first response head of `raw`, or None."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def rss_kib(pid):
    """The process's resident set (VmRSS) in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def is_whole_answer(raw):
    """Whether the body after the head is as long as its Content-Length says: an answer a reset did not cut."""
    _, _, body = raw.partition(b"\r\n\r\n")
    return len(body) == int(header_of(raw, "Content-Length"))


def assert_whole_answer_then_fin(data, how, status, cause=None, note=()):
    """`data` is berth's own `status` answer (Berth-Error `cause`, unless None), whole as its Content-Length says,
    and the connection then ended by a FIN (`how`, from read_to_end); `note` goes in each failure's message."""
    assert status_of(data) == status, (*note, how, data[:300])
    if cause is not None:
        assert header_of(data, "Berth-Error") == cause, (*note, data[:300])
    assert is_whole_answer(data), (*note, how, data)
    assert how == "fin", (*note, how, data[:300])


def exchange(addr, raw):
    """Sends `raw` (a request that ends the connection) on a fresh connection; berth's whole answer, ended by a FIN."""
    s = connect(addr)
    try:
        s.sendall(raw)
        data, how = read_to_end(s)
        assert how == "fin", (how, data[:300])
        return data
    finally:
        s.close()


def read_response(sock):
    """One Content-Length response from `sock`: (head bytes with their blank line, body bytes)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        assert chunk, raw
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    n = int(header_of(raw, "Content-Length"))
    while len(body) < n:
        chunk = sock.recv(65536)
        assert chunk, body
        body += chunk
    return head + b"\r\n\r\n", body


def read_answer_head(sock, timeout=5):
    """One small Content-Length answer read whole from `sock` (within `timeout` a read); its head is returned."""
    sock.settimeout(timeout)
    head, _ = read_response(sock)
    return head


def get_answer_head(sock, o, path="/ok"):
    """Sends one GET for origin `o` (its `hostport`) on `sock` and reads its answer whole; its head is returned."""
    sock.sendall(f"GET http://{o.hostport}{path} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    return read_answer_head(sock)


def thread_per_connection(conn, rcvbuf=None):
    """A loopback listener whose every accepted connection runs `conn(sock)` on a thread of its own (for origins whose
    timing or socket options RawOrigin cannot give); `rcvbuf` sets SO_RCVBUF on the listener, which its connections
    inherit before their handshake. Returns (listener, stop, accept thread): append to `stop` and close the listener
    to end it."""
    lsock = socket.socket()
    if rcvbuf is not None:
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    lsock.settimeout(0.2)
    stop = []

    def accept():
        while not stop:
            try:
                c, _ = lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=conn, args=(c,), daemon=True).start()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    return lsock, stop, t


def answer_with_fin_then_read_on(conn, answer, read_for=1):
    """An origin's answer and its FIN in one segment (corked), then, half-closed, one more request read for `read_for`
    seconds: a request sent on this connection after the answer would be read by an origin that can no longer answer
    it (RawOrigin records it)."""
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    conn.sendall(answer)
    conn.sock.shutdown(socket.SHUT_WR)
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
    conn.sock.settimeout(read_for)
    try:
        conn.read_request()
    except (OSError, EOFError):
        pass


class OneConnectionOrigin:
    """A CONNECT target: accepts one connection and runs `serve(conn, self)` on it (a 20 s timeout on its reads);
    `ended` and `got` are the serve's to fill, `done` is set when it returns. The tunnel tests of items 162 and 167."""

    def __init__(self, serve):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.hostport = f"127.0.0.1:{self.port}"
        self.ended = None
        self.got = b""
        self.done = threading.Event()

        def run():
            conn, _ = self.listener.accept()
            conn.settimeout(20)
            try:
                serve(conn, self)
            finally:
                self.done.set()

        threading.Thread(target=run, daemon=True).start()

    def close(self):
        self.listener.close()


def read_until_end(conn, origin):
    """A serve step: reads `conn` until its end, keeping the bytes in `origin.got` and how it ended in
    `origin.ended` ('fin', 'reset', or the error), then closes it."""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                origin.ended = "fin"
                return
            origin.got += chunk
    except ConnectionResetError:
        origin.ended = "reset"
    except OSError as e:
        origin.ended = repr(e)
    finally:
        conn.close()


def tunnel_berth(origin, *flags):
    """A berth whose CONNECT may reach `origin`'s port (the tunnel tests' one setup), with `flags` added."""
    return Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                  "--connect-port", str(origin.port), *flags])
