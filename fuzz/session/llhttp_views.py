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


def parse_requests(data):
    """(targets whose head parsed, complete count, methods, error or None) for a request byte stream."""
    p = ReqCounter()
    err = None
    try:
        p.execute(data)
    except Exception as e:  # noqa: BLE001 - llhttp raises one type per error
        err = type(e).__name__
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
