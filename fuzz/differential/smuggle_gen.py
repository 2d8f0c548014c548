"""Seeded generator of smuggling probes: a valid request with one to three framing-relevant parts spelled oddly.

`case(seed, i, target, authority)` -> (name, bytes). The name is `gNNNNN` and the odd spellings (`cl=plus+eol=lf@2`);
the bytes are the same for every proxy but for the origin's port (the authority is always `127.0.0.1:PPPPP`, so
every length is too). Case i draws from its own Random(seed, i): `--seed S --only gNNNNN` replays one case alone.
{T} in the request is `target` (`http://127.0.0.1:PPPPP/gNNNNN`): every request a case means to send names its case.
"""
import random

AXES = ["cl", "te", "name", "eol", "chunk", "chunkend", "line", "target", "host", "expect", "fold", "pipe", "size",
        "chunks"]
KINDS = ["get", "get", "cl", "cl", "cl", "chunked", "chunked", "chunked", "chunked", "clte", "tecl"]
NEEDS = {"cl": ("cl", "clte", "tecl"), "te": ("chunked", "clte", "tecl"), "chunk": ("chunked", "clte", "tecl"),
         "chunkend": ("chunked", "clte", "tecl"), "chunks": ("chunked", "tecl")}
SIZES = [1, 2, 4095, 4096, 4097, 8191, 16384, 16385, 65535, 65536, 65537, 100000]


def cl_value(rng, n):
    """A Content-Length value meant to say n, spelled one of the ways parsers disagree on."""
    return rng.choice([
        ("plus", f"+{n}"), ("minus", f"-{n}"), ("zero", f"0{n}"), ("zeros20", "0" * 20 + str(n)),
        ("list", f"{n}, {n}"), ("list-tight", f"{n},{n}"), ("list-differ", f"{n}, {n + 1}"), ("list-sp", f"{n} ,{n}"),
        ("list-empty", f"{n},,{n}"), ("empty", ""), ("sp", " "), ("trail-sp", f"{n} "), ("tabs", f"\t{n}\t"),
        ("vtab", f"{n}\x0b"), ("ff", f"\x0c{n}"), ("hex", f"0x{n:x}"), ("huge", "9" * 25),
        ("wrap64", str(2 ** 64 + n)), ("wrap63", str(2 ** 63 + n)), ("dot", f"{n}.0"), ("semi", f"{n};x"),
        ("nul", f"{n}\x00"), ("high", f"{n}\xa0"), ("quoted", f'"{n}"'), ("exp", f"{n}e0"), ("under", f"{n}_0"),
    ])


TE_VALUES = [
    ("Chunked", "Chunked"), ("UPPER", "CHUNKED"), ("trail-sp", "chunked "), ("lead-sp", "  chunked"),
    ("tab", "\tchunked\t"), ("vtab", "\x0bchunked"), ("ff", "chunked\x0c"), ("identity-chunked", "identity, chunked"),
    ("chunked-identity", "chunked, identity"), ("gzip-chunked", "gzip, chunked"), ("chunked-chunked", "chunked, chunked"),
    ("trail-comma", "chunked,"), ("lead-comma", ", chunked"), ("xchunked", "xchunked"), ("param", "chunked;q=1"),
    ("quoted", '"chunked"'), ("nul", "chunked\x00"), ("high", "chunked\xa0"), ("kelvin", "chun\xe2\x84\xaaed"),
    ("identity", "identity"), ("empty", ""), ("cr-inside", "chun\rked"), ("x-chunked", "x-chunked, chunked"),
]


class Builder:
    """One request's parts as a case draws them: head lines with their ends, the body, what follows."""

    def __init__(self, rng, target, authority):
        self.rng, self.t, self.a = rng, target, authority
        self.smug = f"GET /SMUGGLED HTTP/1.1\r\nHost: {authority}\r\n\r\n"
        self.labels = []

    def label(self, axis, form):
        self.labels.append(f"{axis}={form}")

    def pick(self, axis, forms):
        name, value = self.rng.choice(forms)
        self.label(axis, name)
        return value


def chunk_size(b, n, odd):
    """The size line of a chunk of n bytes: plain hex, or (odd) one of the spellings parsers disagree on."""
    h = f"{n:x}"
    if not odd:
        return h
    return b.pick("chunk", [
        ("upper", h.upper()), ("zeros3", "000" + h), ("zeros15", h.rjust(15, "0")), ("zeros16", h.rjust(16, "0")),
        ("zeros20", h.rjust(20, "0")), ("0x", "0x" + h), ("ext", h + ";a=b"), ("ext-quoted", h + ';a="x;y\\"z"'),
        ("ext-open-quote", h + ';a="x'), ("ext-bws", h + " ;a"), ("ext-tab", h + "\t;a"), ("trail-sp", h + " "),
        ("trail-tab", h + "\t"), ("plus", "+" + h), ("minus", "-" + h), ("wrap64", "1" + h.rjust(16, "0")),
        ("under", "0_" + h), ("lead-sp", " " + h), ("ext-nul", h + ";a\x00"), ("ext-lf", h + ";a\nb"),
        ("ext-empty", h + ";"), ("high", h + "\xa0"),
    ])


def chunked_body(b, data, odd_size, odd_end, many=False):
    """`data` as one chunk (two, now and then; up to 300 when `many`), the last chunk and the trailer section, oddly
    spelled where told."""
    rng = b.rng
    parts = [data] if len(data) < 2 or rng.random() < 0.7 else [data[:len(data) // 2], data[len(data) // 2:]]
    if many and len(data) > 1:
        cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.choice([3, 30, 300]))))
        parts = [data[i:j] for i, j in zip([0] + cuts, cuts + [len(data)])]
        b.label("chunks", len(parts))
    which = rng.randrange(len(parts))
    end_at = rng.randrange(len(parts)) if odd_end else -1
    data_end = "\r\n"
    if odd_end:
        data_end, where = rng.choice([("\n", "lf"), ("\r", "cr"), ("", "none"), ("XX", "xx"), ("\r\r\n", "crcrlf"),
                                      (" \r\n", "sp"), (None, "last"), (None, "trailer")])
        b.label("chunkend", where)
    out = ""
    for i, p in enumerate(parts):
        size = chunk_size(b, len(p), odd_size and i == which)
        out += size + "\r\n" + p + (data_end if data_end is not None and i == end_at else "\r\n")
    last, trailer = "0", ""
    if data_end is None and where == "last":
        last = b.pick("last", [("zeros", "000"), ("ext", "0;x=1"), ("sp", "0 "), ("tab", "0\t"), ("0x", "0x0"),
                                ("zeros16", "0" * 16), ("lf", "0\n"), ("minus", "-0")])
    if data_end is None and where == "trailer":
        trailer = b.pick("trailer", [("plain", "X-T: 1\r\n"), ("cl", "Content-Length: 50\r\n"),
                                     ("te", "Transfer-Encoding: chunked\r\n"), ("fold", "X-T: 1\r\n folded\r\n"),
                                     ("lf", "X-T: 1\n"), ("sp-colon", "X-T : 1\r\n"), ("reqline", "GET /SMUGGLED HTTP/1.1\r\n"),
                                     ("host", f"Host: {b.a}\r\n"), ("nul", "X-T: a\x00b\r\n")])
    return out + last + "\r\n" + trailer + "\r\n"


def request_line(b, odd, method, tag):
    """The request line (its end is the head's business) and the Host value that goes with it."""
    target, host = f"{b.t}/a", b.a
    port = b.a.rsplit(":", 1)[1]
    if odd["target"]:
        target = b.pick("target", [
            ("origin", f"/{tag}/a"), ("userinfo", f"http://u@{b.a}/{tag}/a"),
            ("userinfo-evil", f"http://{b.a}@evil.invalid/{tag}/a"), ("at-path", f"{b.t}/a@evil.invalid"),
            ("fragment", f"{b.t}/a#x"), ("ipv6", f"http://[::1]:{port}/{tag}/a"),
            ("ipv6-mapped", f"http://[::ffff:127.0.0.1]:{port}/{tag}/a"), ("pct-host", f"http://127.0.0.%31:{port}/{tag}/a"),
            ("upper-scheme", f"HTTP://{b.a}/{tag}/a"), ("query-at", f"{b.t}/a?u=x@evil.invalid"),
            ("backslash", f"http://{b.a}\\@evil.invalid/{tag}/a"), ("pct-path", f"{b.t}/%2e%2e/a"),
            ("https", f"https://{b.a}/{tag}/a"), ("port-zeros", f"http://127.0.0.1:000{port}/{tag}/a"),
            ("host-dot", f"http://127.0.0.1.:{port}/{tag}/a"), ("userinfo-pct", f"http://a%40b@{b.a}/{tag}/a"),
            ("empty-port", f"http://127.0.0.1:/{tag}/a"), ("authority-form", b.a),
        ])
    sp, version = " ", "HTTP/1.1"
    if odd["line"]:
        form = b.rng.choice(["lower", "double-sp", "tab", "trail-sp", "http10", "http09", "http110", "lower-version",
                             "http12", "leading-crlf", "del-method"])
        b.label("line", form)
        if form == "lower":
            method = method.lower()
        elif form == "del-method":
            method = method[0] + "\x7f" + method[1:]
        elif form == "double-sp":
            sp = "  "
        elif form == "tab":
            sp = "\t"
        version = {"http10": "HTTP/1.0", "http110": "HTTP/1.10", "lower-version": "http/1.1", "http12": "HTTP/1.2",
                   "trail-sp": "HTTP/1.1 ", "http09": ""}.get(form, version)
        if form == "leading-crlf":
            method = "\r\n" + method
    line = f"{method}{sp}{target}{sp}{version}" if version else f"{method}{sp}{target}"
    return line, host, version


def make(seed, i, target, authority):
    """Case i of `seed` for one proxy: (name, bytes)."""
    rng = random.Random(seed * 1_000_003 + i)
    tag = f"g{i:05d}"
    b = Builder(rng, f"{target}/{tag}", authority)
    odd_axes = rng.sample(AXES, rng.choice([1, 1, 1, 1, 2, 2, 3]))
    odd = {a: a in odd_axes for a in AXES}
    kind = rng.choice(KINDS)
    for axis, kinds in NEEDS.items():
        if odd[axis] and kind not in kinds:
            kind = {"cl": "cl", "te": "chunked"}.get(axis, "chunked") if kind == "get" else (
                "clte" if axis in ("te", "chunk", "chunkend") and kind == "cl" else "tecl")
    method = "GET" if kind == "get" else rng.choice(["POST", "POST", "PUT", "DELETE", "OPTIONS"])
    line, host, version = request_line(b, odd, method, tag)
    fields = [["Host", host]]
    data = b.smug if rng.random() < 0.5 else "hello"
    if odd["size"]:
        # Terminators and a request as data, across read-buffer sizes: a parser that scans for them shows.
        size = rng.choice(SIZES)
        data = (("0\r\n\r\n" + b.smug + "\r\n" + "d" * rng.randrange(1, 50)) * (size // 40 + 1))[:size]
        b.label("size", size)
    body = ""
    if kind == "cl":
        body = data
        fields.append(["Content-Length", str(len(body))])
    elif kind == "chunked":
        body = chunked_body(b, data, odd["chunk"], odd["chunkend"], odd["chunks"])
        fields.append(["Transfer-Encoding", "chunked"])
    elif kind == "clte":
        body = "0\r\n\r\n" + b.smug
        framing = [["Content-Length", str(len(body))], ["Transfer-Encoding", "chunked"]]
        fields += framing if rng.random() < 0.5 else framing[::-1]
    elif kind == "tecl":
        body = chunked_body(b, b.smug, odd["chunk"], odd["chunkend"], odd["chunks"])
        framing = [["Transfer-Encoding", "chunked"], ["Content-Length", str(body.index("\r\n") + 2)]]
        fields += framing if rng.random() < 0.5 else framing[::-1]
    b.labels.insert(0, kind)
    cl_lines = [f for f in fields if f[0] == "Content-Length"]
    te_lines = [f for f in fields if f[0] == "Transfer-Encoding"]
    if odd["cl"] and cl_lines:
        n = int(cl_lines[0][1])
        form = rng.choice(["value", "value", "dup-same", "dup-differ", "dup-empty", "name-case"])
        if form == "value":
            name, cl_lines[0][1] = cl_value(rng, n)
            b.label("cl", name)
        else:
            b.label("cl", form)
            extra = {"dup-same": str(n), "dup-differ": str(n + 1), "dup-empty": ""}.get(form)
            if extra is not None:
                fields.insert(fields.index(cl_lines[0]) + rng.randrange(2), ["Content-Length", extra])
            else:
                cl_lines[0][0] = "content-LENGTH"
    if odd["te"] and te_lines:
        form = rng.choice(["value", "value", "value", "dup", "dup-identity-first", "dup-empty", "name-case", "add-cl"])
        if form == "value":
            te_lines[0][1] = b.pick("te", TE_VALUES)
        else:
            b.label("te", form)
            at = fields.index(te_lines[0])
            if form == "dup":
                fields.insert(at + 1, ["Transfer-Encoding", "chunked"])
            elif form == "dup-identity-first":
                fields.insert(at, ["Transfer-Encoding", "identity"])
            elif form == "dup-empty":
                fields.insert(at + rng.randrange(2), ["Transfer-Encoding", ""])
            elif form == "name-case":
                te_lines[0][0] = "tRANSFER-ENCODING"
            elif not cl_lines:
                fields.insert(at + rng.randrange(2), ["Content-Length", str(rng.choice([0, 4, len(body)]))])
    if odd["host"]:
        form = rng.choice(["evil", "port", "missing", "dup-same", "dup-evil", "empty", "userinfo", "upper", "comma",
                           "trail-dot", "path"])
        b.label("host", form)
        value = {"evil": "evil.example", "port": "127.0.0.1:1", "empty": "", "userinfo": f"u@{b.a}",
                 "upper": b.a.upper(), "comma": f"{b.a},evil.invalid", "trail-dot": b.a.replace(":", ".:"),
                 "path": f"{b.a}/x"}.get(form)
        if form == "missing":
            fields.pop(0)
        elif form.startswith("dup"):
            fields.insert(1, ["Host", "evil.example" if form == "dup-evil" else b.a])
        else:
            fields[0][1] = value
    if odd["expect"]:
        fields.insert(rng.randrange(len(fields) + 1), ["Expect", b.pick("expect", [
            ("plain", "100-continue"), ("upper", "100-Continue"), ("list", "100-continue, foo"), ("trail-sp", "100-continue "),
            ("vtab", "\x0b100-continue"), ("other", "101-continue"), ("empty", ""), ("param", "100-continue;a=b")])])
        if rng.random() < 0.3:
            fields.insert(1, ["Expect", "100-continue"])
            b.label("expect", "twice")
    if rng.random() < 0.5:
        fields.insert(rng.randrange(len(fields) + 1), ["X-Pad", "p" * rng.choice([1, 10, 100])])
    lines = [line] + [f"{k}: {v}" for k, v in fields]
    if odd["name"]:
        at = rng.randrange(1, len(lines) + 1)
        k, v = (fields[at - 1] if at <= len(fields) else ["X-Twin", "1"])
        form = rng.choice(["sp-colon", "tab-colon", "nul", "high", "underscore", "lead-sp", "twin-cl", "twin-te",
                           "ctl", "empty-name", "no-colon"])
        b.label("name", f"{form}:{k.lower()}")
        new = {"sp-colon": f"{k} : {v}", "tab-colon": f"{k}\t: {v}", "nul": f"{k}\x00: {v}", "high": f"{k}\xe9: {v}",
               "underscore": f"{k.replace('-', '_')}: {v}", "lead-sp": f" {k}: {v}", "ctl": f"{k}\x01: {v}",
               "twin-cl": "Content_Length: 0", "twin-te": "Transfer_Encoding: chunked", "empty-name": f": {v}",
               "no-colon": f"{k} {v}"}[form]
        if at <= len(fields) and form not in ("twin-cl", "twin-te"):
            lines[at] = new
        else:
            lines.insert(at, new)
    if odd["fold"]:
        if len(lines) == 1:
            lines.append("X-Fold: 1")
        at = rng.randrange(1, len(lines))
        form = rng.choice(["fold-before", "fold-after", "vtab-before", "ff-after", "nul-value", "fold-tab"])
        b.label("fold", f"{form}:{lines[at].split(':')[0].lower()[:20]}")
        k, _, v = lines[at].partition(":")
        v = v.strip(" ")
        lines[at] = {"fold-before": f"{k}:\r\n {v}", "fold-after": f"{k}: {v}\r\n x", "vtab-before": f"{k}:\x0b{v}",
                     "ff-after": f"{k}: {v}\x0c", "nul-value": f"{k}: \x00{v}", "fold-tab": f"{k}:\r\n\t{v}"}[form]
    ends = ["\r\n"] * (len(lines) + 1)
    if odd["eol"]:
        at = rng.randrange(len(ends))
        ends[at] = b.pick("eol", [("lf", "\n"), ("cr", "\r"), ("crcrlf", "\r\r\n"), ("lfcr", "\n\r"), ("sp", " \r\n")])
        b.labels[-1] += f"@{at}"
    head = "".join(ln + e for ln, e in zip(lines, ends[:-1])) + ends[-1]
    after = f"GET {b.t}/next HTTP/1.1\r\nHost: {b.a}\r\n\r\n"
    if odd["pipe"]:
        after = b.pick("pipe", [
            ("none", ""), ("post-cl", f"POST {b.t}/next HTTP/1.1\r\nHost: {b.a}\r\nContent-Length: 5\r\n\r\nhello"),
            ("post-chunked", f"POST {b.t}/next HTTP/1.1\r\nHost: {b.a}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            ("lf", f"GET {b.t}/next HTTP/1.1\nHost: {b.a}\n\n"), ("http10", f"GET {b.t}/next HTTP/1.0\r\nHost: {b.a}\r\n\r\n"),
            ("two", after + f"GET {b.t}/third HTTP/1.1\r\nHost: {b.a}\r\n\r\n"), ("crlf-first", "\r\n" + after),
            ("head", f"HEAD {b.t}/next HTTP/1.1\r\nHost: {b.a}\r\n\r\n")])
    name = f"{tag}-" + "+".join(b.labels)
    return name, (head + body + after).encode("latin-1")


def cases(seed, count, target, authority, start=0):
    """Cases start..start+count-1 of `seed` for one proxy."""
    return [make(seed, i, target, authority) for i in range(start, start + count)]
