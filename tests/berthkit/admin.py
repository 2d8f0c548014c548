"""The one admin client: a request to berth's admin listener (TCP or Unix socket) with exactly the headers given,
/stats and one upstream's entry in it, and waiting for an upstream's state."""
import http.client
import json
import socket
import urllib.parse

from .waiting import wait_for


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over AF_UNIX: the standard library client, keep-alive included, on a socket path."""

    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class Headers(dict):
    """Response headers by lower-case name; lookups ignore case."""

    def __getitem__(self, name):
        return super().__getitem__(name.lower())

    def get(self, name, default=None):
        return super().get(name.lower(), default)

    def __contains__(self, name):
        return super().__contains__(name.lower())


class Answer(tuple):
    """An admin answer. It unpacks as (status, body): body is the parsed JSON when berth sent JSON, {} when it sent
    nothing, else the text. Also `.status_code`, `.headers`, `.content` (bytes), `.text` and `.json()`."""

    def __new__(cls, status, headers, content):
        ctype = headers.get("content-type", "")
        if ctype.startswith("application/json") and content:
            body = json.loads(content)
        elif not content:
            body = {}
        else:
            body = content.decode(errors="replace")
        answer = super().__new__(cls, (status, body))
        answer.headers, answer.content = headers, content
        return answer

    @property
    def status(self):
        return self[0]

    @property
    def status_code(self):
        return self[0]

    @property
    def body(self):
        return self[1]

    @property
    def text(self):
        return self.content.decode(errors="replace")

    def json(self):
        return json.loads(self.content)


def _address(target):
    """The admin address of a Berth (or anything with `.admin`), or the address itself: (host, port) or a path."""
    return getattr(target, "admin", target)


class AdminConnection:
    """One connection to berth's admin listener (TCP or Unix socket), kept alive across requests (bench times
    requests on a warm connection) and made again when berth closes it. `admin()` is its one-request use."""

    def __init__(self, target, timeout=15):
        self.address = _address(target)
        self.timeout = timeout
        self.conn = None

    def _connect(self):
        if isinstance(self.address, str):
            return UnixHTTPConnection(self.address, self.timeout)
        return http.client.HTTPConnection(self.address[0], self.address[1], timeout=self.timeout)

    def _default_host(self):
        if isinstance(self.address, str):
            return "localhost"
        host, port = self.address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def request(self, method, path, token=None, headers=None, host=None, body=None):
        """Sends Host (`host`, else the address), Authorization when `token` is given, the `headers` and a
        Content-Length on POST or with a body; nothing else, so tests of header handling see exactly what they
        chose. Returns an Answer whatever the status."""
        if self.conn is None:
            self.conn = self._connect()
        try:
            self.conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            self.conn.putheader("Host", host or self._default_host())
            if token:
                self.conn.putheader("Authorization", f"Bearer {token}")
            for k, v in (headers or {}).items():
                self.conn.putheader(k, v)
            if body is not None or method in ("POST", "PUT"):
                self.conn.putheader("Content-Length", str(len(body or b"")))
            self.conn.endheaders(body or None)
            r = self.conn.getresponse()
            content = r.read()
        except BaseException:
            self.close()
            raise
        if r.will_close:
            self.close()
        return Answer(r.status, Headers((k.lower(), v) for k, v in r.getheaders()), content)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def admin(target, method, path, token=None, headers=None, host=None, body=None, timeout=15):
    """One admin request on a fresh connection to `target` (a Berth, (host, port) or a Unix socket path); returns an
    Answer whatever the status (see AdminConnection.request for what is sent)."""
    conn = AdminConnection(target, timeout)
    try:
        return conn.request(method, path, token=token, headers=headers, host=host, body=body)
    finally:
        conn.close()


def admin_json(target, method, path, status=200, **kw):
    """admin(...) that must answer `status` with JSON; returns the parsed document."""
    r = admin(target, method, path, **kw)
    assert r.status == status, (method, path, r.status, r.text)
    assert r.headers.get("content-type", "").startswith("application/json"), r.headers
    return r.json()


def stats(target, upstream=None, token=None, timeout=15):
    """The /stats document (of one upstream with `upstream`); AssertionError unless berth answers 200 with JSON."""
    return admin_json(target, "GET", "/stats" + (f"?upstream={upstream}" if upstream else ""), token=token,
                      timeout=timeout)


def upstream_stats(target, upstream, token=None):
    """The /stats entry of `upstream` (HOST:PORT, or https://HOST:PORT for a TLS pool), or None while berth does not
    know it: the one meaning of a missing upstream. Callers that want zeros for it write `upstream_stats(...) or ZERO`.
    Asks with q= (a name filter that takes TLS pool names too, where upstream= takes HOST:PORT only)."""
    doc = admin_json(target, "GET", f"/stats?q={urllib.parse.quote(upstream, safe=':/')}", token=token)
    entries = [u for u in doc["upstreams"] if u["upstream"] == upstream]
    assert len(entries) <= 1, entries
    return entries[0] if entries else None


def wait_upstream(target, upstream, predicate, timeout=5.0, what="upstream stats"):
    """Waits until upstream_stats(...) exists and predicate(entry) holds; returns the entry. The AssertionError on
    timeout names `what` and shows the last entry seen."""
    holder = {}

    def check():
        up = upstream_stats(target, upstream)
        holder["last"] = up
        return up if (up is not None and predicate(up)) else None

    try:
        return wait_for(check, timeout=timeout, what=what)
    except AssertionError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; last stats: "
                             f"{json.dumps(holder.get('last'))}") from None
