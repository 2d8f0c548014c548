"""The session fuzzer's strict views of byte streams (llhttp): which requests a stream holds, which responses."""
import llhttp


class ReqCounter(llhttp.Request):
    def __init__(self):
        super().__init__()
        self.targets, self.complete, self.methods, self._url = [], 0, [], b""

    def on_message_begin(self):
        self._url = b""

    def on_url(self, data):
        self._url += bytes(data)

    def on_headers_complete(self):
        self.targets.append(self._url.decode("latin-1"))
        self.methods.append(self.method)

    def on_message_complete(self):
        self.complete += 1


# RFC 9110 5.6.2 tchar: what a method token may hold.
TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _parse_once(data):
    """llhttp over `data`: (parser, error name or None, offset where the failing message began). The stream is fed
    whole; only a refused method is parsed again a byte at a time, to learn where its message began."""
    p = ReqCounter()
    try:
        p.execute(data)
        return p, None, None
    except Exception as e:  # noqa: BLE001 - llhttp raises one type per error
        if type(e).__name__ != "InvalidMethodError":
            return p, type(e).__name__, None
    p = ReqCounter()
    ends = [0]
    complete = p.on_message_complete

    def on_complete():
        complete()
        ends.append(i + 1)
    p.on_message_complete = on_complete
    for i in range(len(data)):
        try:
            p.execute(data[i:i + 1])
        except Exception as e:  # noqa: BLE001 - llhttp raises one type per error
            return p, type(e).__name__, ends[-1]
    return p, None, None


def parse_requests(data):
    """(targets whose head parsed, complete count, methods, error or None) for a request byte stream.

    llhttp knows a fixed list of methods and refuses any other, but RFC 9110 makes a method any token, and berth
    forwards extension methods as a proxy must. An extension method in the caller's stream is read as GET (its
    framing is the same), so the requests after it stay visible to the oracle instead of counting as never sent."""
    for _ in range(16):
        p, err, start = _parse_once(data)
        if err != "InvalidMethodError":
            break
        while start < len(data) and data[start] in b"\r\n":
            start += 1
        sp = data.find(b" ", start)
        token = data[start:sp] if sp > start else b""
        if not token or any(c not in TCHAR for c in token):
            break
        data = data[:start] + b"GET" + data[sp:]
    return p.targets, p.complete, p.methods, err


class ResCounter(llhttp.Response):
    def __init__(self):
        super().__init__()
        self.final_heads, self.final_complete, self._status = 0, 0, 0

    def on_headers_complete(self):
        if self.status >= 200 or self.status == 101:
            self.final_heads += 1

    def on_message_complete(self):
        if self.status >= 200 or self.status == 101:
            self.final_complete += 1


def path_of(target):
    if target.startswith("http://"):
        rest = target[7:]
        i = rest.find("/")
        return rest[i:] if i >= 0 else "/"
    return target
