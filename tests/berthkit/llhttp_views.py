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


# Errors whose message start `_parse_once` finds, for `parse_requests` to rewrite that message as berth reads it.
_LOCATED = ("InvalidMethodError", "UnexpectedContentLengthError", "InvalidContentLengthError")


def _merge_identical_lengths(data, start):
    """`data` with the head at `start` carrying one `Content-Length` where it had several fields or a list of one
    value (berth accepts and forwards those once, as HAProxy does: docs/reliability.md item 12; llhttp refuses them);
    None when the values differ or the head is not whole."""
    end = data.find(b"\r\n\r\n", start)
    if end < 0:
        return None
    lines = data[start:end].split(b"\r\n")
    values = []
    kept = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.lower() == b"content-length":
            values += [v.strip() for v in value.split(b",")]
        else:
            kept.append(line)
    if len(values) < 2 or len(set(values)) != 1 or not values[0].isdigit():
        return None
    head = b"\r\n".join([lines[0]] + kept + [b"Content-Length: " + values[0]])
    return data[:start] + head + data[end:]


def _parse_once(data):
    """llhttp over `data`: (parser, error name or None, offset where the failing message began). The stream is fed
    whole; only a refused method is parsed again a byte at a time, to learn where its message began."""
    p = ReqCounter()
    try:
        p.execute(data)
        return p, None, None
    except Exception as e:  # noqa: BLE001 - llhttp raises one type per error
        if type(e).__name__ not in _LOCATED:
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
    framing is the same), so the requests after it stay visible to the oracle instead of counting as never sent.
    Likewise a head whose Content-Length fields all say one value is read with one, as berth reads it."""
    for _ in range(16):
        p, err, start = _parse_once(data)
        if err in ("UnexpectedContentLengthError", "InvalidContentLengthError") and start is not None:
            merged = _merge_identical_lengths(data, start)
            if merged is None:
                break
            data = merged
            continue
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
