"""The caller side of the integration tests: a raw connection to berth's proxy and the request bytes it sends."""
import socket

from .http_wire import DEFAULT_TIMEOUT, BufferedSocket, Message, parse_head


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


def open_tunnel(b, o, timeout=15):
    """A caller socket to berth `b` (its `proxy`: (host, port) or a Unix path) with an established CONNECT tunnel to
    origin `o` (its `hostport`), the 200's head read a byte at a time so nothing of the tunnel is taken with it."""
    if isinstance(b.proxy, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(b.proxy)
    else:
        s = socket.create_connection(b.proxy, timeout=timeout)
    s.sendall(f"CONNECT {o.hostport} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, f"closed before the CONNECT answer: {head!r}"
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head
    return s
