"""The inputs of the old-vs-new differential: request byte strings (with the origin's authority as HP) and scripted
origin responses, each (id, kind, data); kind is 'req', 'pipe' (request bytes split at an offset) or 'resp'."""
import json
import os
import random

from berthkit.smuggling_corpus import corpus as smuggling_corpus

HERE = os.path.dirname(os.path.abspath(__file__))
LLHTTP = os.path.join(HERE, "..", "..", "tests", "differential", "corpus.jsonl")

INSERTS = [b"\r", b"\n", b"\x00", b"\x80", b"\xff", b"\t", b" ", b":", b"\x0b", b"\x7f"]
KNOWN = ["Content-Length", "Transfer-Encoding", "Connection", "Host", "Keep-Alive", "Upgrade", "Proxy-Connection",
         "Expect", "TE", "Trailer", "Berth-Generation", "Via", "Proxy-Authorization", "Berth-Error", "Date"]


def _value_for(name):
    return {"content-length": "5", "transfer-encoding": "chunked", "connection": "close", "host": "HP",
            "keep-alive": "timeout=5", "upgrade": "websocket", "proxy-connection": "keep-alive",
            "expect": "100-continue", "te": "trailers", "trailer": "X-T", "berth-generation": "g1",
            "via": "1.1 other", "proxy-authorization": "Basic eA==", "berth-error": "x", "date": "now"}.get(
        name.lower(), "v")


def near_misses(name):
    """Names one edit from `name`, and its case variants."""
    out = {name.upper(), name.lower(), name.swapcase(), name[0].lower() + name[1:]}
    for i in range(len(name)):
        out.add(name[:i] + name[i + 1:])                                   # a letter dropped
        c = name[i]
        out.add(name[:i] + (chr(ord(c) + 1) if c != "~" else "a") + name[i + 1:])  # a letter off by one
    out.add(name + "x")
    out.add("x" + name)
    out.add(name.replace("-", "_"))
    out.discard("")
    return sorted(out)


def base_requests(hp):
    """Well-formed requests whose heads the mutations start from."""
    return {
        "get-abs": f"GET http://{hp}/a/b?c=d HTTP/1.1\r\nHost: {hp}\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n",
        "get-origin": f"GET /x HTTP/1.1\r\nHost: {hp}\r\nConnection: keep-alive\r\n\r\n",
        "post-cl": f"POST http://{hp}/p HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello",
        "post-chunked": f"POST http://{hp}/p HTTP/1.1\r\nHost: {hp}\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n0\r\n\r\n",
        "get-10": f"GET http://{hp}/ HTTP/1.0\r\nHost: {hp}\r\nConnection: keep-alive\r\n\r\n",
    }


def _mutations(data, head_end, rng, flips):
    """Every insertion of a hostile byte at each head position, each byte deleted, and `flips` random bit flips."""
    out = []
    for i in range(head_end + 1):
        for ins in INSERTS:
            out.append((f"ins{ins.hex()}@{i}", data[:i] + ins + data[i:]))
        if i < head_end:
            out.append((f"del@{i}", data[:i] + data[i + 1:]))
    for _ in range(flips):
        i = rng.randrange(head_end)
        b = bytearray(data)
        b[i] ^= 1 << rng.randrange(8)
        out.append((f"flip@{i}:{b[i]:02x}", bytes(b)))
    return out


def request_cases(hp, port, rng, flips=60):
    cases = [(f"smuggle/{n}", "req", d) for n, d in smuggling_corpus(hp)]
    with open(LLHTTP) as f:
        for line in f:
            item = json.loads(line)
            data = bytes.fromhex(item["hex"]).replace(b"example.com:8080", hp.encode()).replace(
                b"example.com", hp.encode())
            cases.append((f"llhttp/{item['id']}", "req" if item["kind"] == "request" else "resp", data))
    for name, text in base_requests(hp).items():
        data = text.encode()
        cases.append((f"base/{name}", "req", data))
        for mid, m in _mutations(data, data.index(b"\r\n\r\n") + 4, rng, flips):
            cases.append((f"mut/{name}/{mid}", "req", m))
    start = f"POST http://{hp}/n HTTP/1.1\r\nHost: {hp}\r\n"
    for known in KNOWN:
        for nm in near_misses(known):
            v = _value_for(known).replace("HP", hp)
            cases.append((f"name/{nm}", "req", (start + f"{nm}: {v}\r\nContent-Length: 5\r\n\r\nhello").encode()))
            cases.append((f"name-ch/{nm}", "req", (start + f"Transfer-Encoding: chunked\r\n{nm}: {v}\r\n\r\n"
                                                   "5\r\nhello\r\n0\r\n\r\n").encode()))
    cases += authority_cases(hp, port)
    cases += start_line_cases(hp)
    cases += value_cases(hp)
    cases += field_shape_cases(hp, rng)
    return cases


def authority_cases(hp, port):
    host = hp.rsplit(":", 1)[0]
    targets = [f"http://{hp}/", f"http://{host}:0{port}/", f"http://{host}:00{port}/", f"http://u:p@{hp}/",
               f"http://u@{hp}/", f"http://@{hp}/", f"http://{host}.:{port}/", f"http://{host.upper()}:{port}/",
               f"HTTP://{hp}/", f"Http://{hp}/", f"https://{hp}/", f"http://{hp}", f"http://{hp}?q",
               f"http://{hp}#f", f"http://{host}:/", f"http://{host}/", f"http://[::1]:{port}/",
               f"http://[::ffff:{host}]:{port}/", f"http://[{host}]:{port}/", f"http://{host}:{port}:1/",
               f"http://{host}:+{port}/", f"http://{host}:{port}0/", f"http://{host}:65536/",
               f"http://{host}%2e:{port}/", f"http://{hp}/%00", f"http://{hp}/a b", f"http://{hp}/\x7f",
               f"http://{hp}/\x80", f"http:/{hp}/", f"http:{hp}/", f"//{hp}/", "/", "*", f"{hp}",
               f"http://{host} :{port}/", f"http://{host}:{port} /", f"ftp://{hp}/", f"ws://{hp}/",
               f"http://{host}\t:{port}/", f"http://{hp}:/", f"http://{host}:{port:06d}/"]
    hosts = [hp, f"{host}:0{port}", f"{host}:00{port}", host, f"{host}:", f"u@{hp}", f"[::1]:{port}",
             f"{host.upper()}:{port}", f"{host}.:{port}", "other.invalid", "", f" {hp}", f"{hp} ", f"{hp}, {hp}",
             f"{hp}/", f"{hp}?", f"{host}:{port}0", f"{host}:+{port}", f"{host}:{port:06d}"]
    # Host against the target's authority where they differ only past the first 8 or 16 bytes, or only in case:
    # the Host compare reads words, and whether Host is kept or rewritten shows in the forwarded bytes.
    forms = [hp, f"localhost:{port}", f"LocalHost:{port}", f"LOCALHOST:{port}", f"localhost.:{port}", f"127.1:{port}",
             f"127.000.000.001:{port}", f"127.0.0.001:{port}", f"0x7f.0.0.1:{port}", f"2130706433:{port}",
             f"localhost:{port:07d}", f"{host}:{port}\t", f"{host}:{port}x", f"{host}x:{port}", f"x{host}:{port}",
             f"{host}:{port + 1}", f"127.0.0.2:{port}", f"LOCALHOSt:{port}", f"localhosT:{port}", f"{host}:{port}.",
             f"localhost.localdomain:{port}", f"ip6-localhost:{port}", f"[::ffff:127.0.0.1]:{port}"]
    out = []
    for ai, a in enumerate(forms):
        for bi, b in enumerate(forms):
            out.append((f"hostcmp/{ai}-{bi}", "req", f"GET http://{a}/ HTTP/1.1\r\nHost: {b}\r\n\r\n".encode()))
    for ti, t in enumerate(targets):
        for hi, h in enumerate(hosts):
            out.append((f"auth/t{ti}-h{hi}", "req", f"GET {t} HTTP/1.1\r\nHost: {h}\r\n\r\n".encode("latin-1")))
        out.append((f"auth/t{ti}-nohost", "req", f"GET {t} HTTP/1.1\r\n\r\n".encode("latin-1")))
        out.append((f"auth/t{ti}-2host", "req", f"GET {t} HTTP/1.1\r\nHost: {hp}\r\nHost: {hp}\r\n\r\n".encode(
            "latin-1")))
        out.append((f"auth/t{ti}-10", "req", f"GET {t} HTTP/1.0\r\n\r\n".encode("latin-1")))
        out.append((f"auth/t{ti}-connect", "req", f"CONNECT {t} HTTP/1.1\r\nHost: {hp}\r\n\r\n".encode("latin-1")))
    return out


def field_shape_cases(hp, rng):
    out = []
    start = f"POST http://{hp}/f HTTP/1.1\r\nHost: {hp}\r\n"
    for n in range(1, 72):
        name = ("X" + "abcdefgh" * 10)[:n]
        out.append((f"long-name/{n}", "req", (start + f"{name}: v\r\nContent-Length: 5\r\n\r\nhello").encode()))
        out.append((f"long-value/{n}", "req", (start + f"X-V: {'v' * n}\r\nContent-Length: 5\r\n\r\nhello").encode()))
        out.append((f"long-cl-ws/{n}", "req", (start + f"Content-Length:{' ' * n}5{' ' * (n % 9)}\r\n\r\nhello")
                                                .encode()))
        out.append((f"long-known-after/{n}", "req", (start + f"{name}: {'v' * n}\r\nTransfer-Encoding: chunked\r\n"
                                                     "\r\n5\r\nhello\r\n0\r\n\r\n").encode()))
        out.append((f"cl-zeros/{n}", "req", (start + f"Content-Length: {'0' * n}5\r\n\r\nhello").encode()))
    fields = [f"Host: {hp}", "Content-Length: 5", "Connection: keep-alive", "X-A: 1", "Accept: */*",
              "Transfer-Encoding: chunked", "Keep-Alive: timeout=3", "Connection: X-A", "Proxy-Connection: close",
              "Content-Length: 5", "Expect: 100-continue", "TE: trailers", "Upgrade: h2c", "Connection: Upgrade"]
    for i in range(600):
        k = rng.randrange(1, 7)
        chosen = [rng.choice(fields) for _ in range(k)]
        body = "5\r\nhello\r\n0\r\n\r\n" if any("chunked" in c for c in chosen) else "hello"
        text = f"POST http://{hp}/r HTTP/1.1\r\n" + "".join(c + "\r\n" for c in chosen) + "\r\n" + body
        out.append((f"fields/{i}", "req", text.encode()))
    return out


def pipeline_cases(hp):
    a = f"GET http://{hp}/one HTTP/1.1\r\nHost: {hp}\r\n\r\n"
    b = f"POST http://{hp}/two HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 5\r\n\r\nhello"
    c = f"POST http://{hp}/three HTTP/1.1\r\nHost: {hp}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    d = f"GET http://{hp}/four HTTP/1.1\r\nHost: {hp}\r\nConnection: close\r\n\r\n"
    data = (a + b + c + d).encode()
    out = [("pipe/whole", "pipe", (data, None))]
    for off in range(1, len(data)):
        out.append((f"pipe/split@{off}", "pipe", (data, off)))
    return out


def response_cases(rng):
    bases = {
        "cl": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-R: 1\r\n\r\nhello",
        "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello",
        "10": b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    }
    out = []
    for name, data in bases.items():
        out.append((f"rbase/{name}", "resp", data))
        for mid, m in _mutations(data, data.index(b"\r\n\r\n") + 4, rng, 40):
            out.append((f"rmut/{name}/{mid}", "resp", m))
    statuses = ["HTTP/1.1 200 OK", "HTTP/1.1 200", "HTTP/1.1 200 ", "HTTP/1.1 2000 OK", "HTTP/1.1 099 X",
                "HTTP/1.1 999 X", "HTTP/1.1 600 X", "HTTP/1.2 200 OK", "HTTP/2 200 OK", "http/1.1 200 OK",
                " HTTP/1.1 200 OK", "HTTP/1.1  200 OK", "HTTP/1.1\t200 OK", "HTTP/1.1 200\tOK", "HTTP/1.1 20 OK",
                "HTTP/1.1 -20 OK", "HTTP/1.1 +20 OK", "HTTP/1.1 200 \x80\xff", "HTTP/1.1 200 a\x00b", "HTTP/1.1 200 a\x7fb",
                "HTTP/1.1 204 No", "HTTP/1.1 304 NM", "HTTP/1.1 205 R", "HTTP/11 200 OK", "HTTP/1.10 200 OK",
                "HTTP/0.9 200 OK", "HTTP/9.9 200 OK", "HTTP/1.1 200 OK ", "HTTP/1.1 2OO OK", "HTTP/1.1 000 OK"]
    for i, s in enumerate(statuses):
        out.append((f"status/{i}", "resp", s.encode("latin-1") + b"\r\nContent-Length: 5\r\n\r\nhello"))
    extra = {
        "obs-fold": "X-F: a\r\n b\r\nContent-Length: 5\r\n",
        "obs-fold-cl": "Content-Length:\r\n 5\r\n",
        "cl-dup-same": "Content-Length: 5\r\nContent-Length: 5\r\n",
        "cl-dup-differ": "Content-Length: 5\r\nContent-Length: 3\r\n",
        "cl-list-same": "Content-Length: 5, 5\r\n",
        "cl-list-differ": "Content-Length: 5, 3\r\n",
        "cl-te": "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
        "te-gzip-chunked": "Transfer-Encoding: gzip, chunked\r\n",
        "te-chunked-gzip": "Transfer-Encoding: chunked, gzip\r\nContent-Length: 5\r\n",
        "te-chunked-twice": "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        "conn-names": "Connection: X-A, Keep-Alive, x-b\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\nKeep-Alive: timeout=7\r\n"
                      "Content-Length: 5\r\n",
        "conn-names-cl": "Connection: Content-Length\r\nContent-Length: 5\r\n",
        "conn-names-te": "Connection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n",
        "conn-close-upper": "Connection: CLOSE\r\nContent-Length: 5\r\n",
        "conn-list-odd": "Connection: ,,close ,\r\nContent-Length: 5\r\n",
        "ka-timeouts": "Keep-Alive: timeout=0\r\nContent-Length: 5\r\n",
        "ka-big": "Keep-Alive: timeout=99999999999999999999\r\nContent-Length: 5\r\n",
        "ka-neg": "Keep-Alive: timeout=-1, max=5\r\nContent-Length: 5\r\n",
        "ka-dup": "Keep-Alive: timeout=1\r\nKeep-Alive: timeout=9\r\nContent-Length: 5\r\n",
        "proxy-conn": "Proxy-Connection: close\r\nContent-Length: 5\r\n",
        "berth-error": "Berth-Error: fake\r\nContent-Length: 5\r\n",
        "via": "Via: 1.1 x\r\nContent-Length: 5\r\n",
        "upgrade-no-101": "Upgrade: websocket\r\nConnection: upgrade\r\nContent-Length: 5\r\n",
        "date": "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Length: 5\r\n",
        "trailer": "Trailer: X-T\r\nTransfer-Encoding: chunked\r\n",
    }
    for name, fields in extra.items():
        body = "5\r\nhello\r\n0\r\n\r\n" if "chunked" in fields and "gzip\r" not in fields else "hello"
        out.append((f"rfield/{name}", "resp", f"HTTP/1.1 200 OK\r\n{fields}\r\n{body}".encode()))
    cut = [("chunk-cut", "Transfer-Encoding: chunked\r\n\r\n5\r\nhel"), ("chunk-cut-size", "Transfer-Encoding: "
           "chunked\r\n\r\n5\r\nhello\r\n"), ("chunk-no-last", "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"),
           ("cl-cut", "Content-Length: 10\r\n\r\nhello"), ("head-cut", "Content-Length: 5\r\nX-"),
           ("chunk-bad-size", "Transfer-Encoding: chunked\r\n\r\nz\r\nhello\r\n0\r\n\r\n"),
           ("chunk-trailer", "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"),
           ("chunk-ext", "Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n")]
    for name, rest in cut:
        out.append((f"rcut/{name}", "resp", f"HTTP/1.1 200 OK\r\n{rest}".encode()))
    interim = ["HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 102 Processing\r\n\r\n",
               "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n",
               "HTTP/1.1 101 Switching\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n",
               "HTTP/1.1 100\r\n\r\n", "HTTP/1.1 199 X\r\nConnection: X-A\r\nX-A: 1\r\n\r\n",
               "HTTP/1.0 100 Continue\r\n\r\n", "HTTP/1.1 100 Continue\r\nX: a\r\n b\r\n\r\n"]
    for i, pre in enumerate(interim):
        out.append((f"r1xx/{i}", "resp", pre.encode() + bases["cl"]))
    # The same heads to a caller that keeps its connection (berth's Keep-Alive line and reuse decisions show).
    out += [("ka-" + cid, "resp-ka", d) for cid, k, d in list(out) if not cid.startswith("rmut/")]
    return out


def split_and_block_cases(hp, rng):
    """Hostile heads in two reads at every offset, requests and responses; heads, bodies and pipelines that cross the
    channel's 4 KiB input blocks; hostile bytes at each position of long names, values and targets (SWAR words)."""
    out = []
    picks = dict(smuggling_corpus(hp))
    for name in ["cl.te", "te.cl", "te-obs-fold", "te-bare-lf", "bare-cr-in-header", "cl-dup-differ", "te-nul",
                 "lf-only-head-end", "absolute-vs-host", "te-space-before-colon"]:
        data = picks[name]
        for off in range(1, len(data)):
            out.append((f"split/{name}@{off}", "split", (data, off)))
    for name, data in [("cl", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-R: 1\r\n\r\nhello"),
                       ("chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
                       ("fold", b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 5\r\n\r\nhello"),
                       ("1xx", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
                       ("cl-dup", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")]:
        for off in range(1, len(data)):
            out.append((f"rsplit/{name}@{off}", "resp-split", (data, off)))
    for name, data in picks.items():
        out.append((f"drip/{name}", "split", (data, "drip")))
    for cid, kind, data in response_cases(random.Random(5)):
        if cid.startswith(("rfield/", "status/", "r1xx/", "rcut/")):
            out.append((f"rdrip/{cid}", "resp-split", (data, "drip")))
    start = f"POST http://{hp}/b HTTP/1.1\r\nHost: {hp}\r\n"
    for total in list(range(4080, 4112)) + list(range(8180, 8200)) + [16380, 16390, 65530, 65545]:
        pad = total - len(start) - len("X-Pad: \r\nContent-Length: 5\r\n\r\n")
        head = start + f"X-Pad: {'p' * pad}\r\nContent-Length: 5\r\n\r\n"
        out.append((f"block/head{total}", "req", (head + "hello").encode()))
        out.append((f"block/head{total}-pipe", "pipe", ((head + "hello" + f"GET http://{hp}/2 HTTP/1.1\r\nHost: {hp}"
                                                         "\r\nConnection: close\r\n\r\n").encode(), None)))
        out.append((f"block/head{total}-nul", "req", (head[:-30] + "\x00" + head[-30:] + "hello").encode("latin-1")))
    for n in [4095, 4096, 4097, 65536, 300000]:
        body = bytes(rng.randrange(256) for _ in range(n))
        out.append((f"block/body{n}", "req", f"POST http://{hp}/b HTTP/1.1\r\nHost: {hp}\r\nContent-Length: {n}"
                    "\r\n\r\n".encode() + body))
        chunks = b"".join(f"{len(body[i:i + 1000]):x}\r\n".encode() + body[i:i + 1000] + b"\r\n"
                          for i in range(0, n, 1000))
        out.append((f"block/chunked{n}", "req", f"POST http://{hp}/b HTTP/1.1\r\nHost: {hp}\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n".encode() + chunks + b"0\r\n\r\n"))
        out.append((f"block/rbody{n}", "resp", f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n".encode() + body))
        out.append((f"block/rchunked{n}", "resp", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
                    + b"0\r\n\r\n"))
    for n in [4090, 4100, 8190, 8200]:
        out.append((f"block/rhead{n}", "resp", f"HTTP/1.1 200 OK\r\nX-Pad: {'p' * (n - 60)}\r\nContent-Length: 5\r\n"
                    "\r\nhello".encode()))
    bad = [b"\x00", b"\r", b"\n", b"\x7f", b"\x80", b"\t", b" ", b":", b"\x01", b"\x1f"]
    name, value, target = "X-Abcdefghijklmnopqrstuvw", "v" * 37, "/" + "t" * 45
    for i in range(len(name) + 1):
        for b in bad:
            nm = name[:i].encode() + b + name[i:].encode()
            out.append((f"swar/name{i}-{b.hex()}", "req", start.encode() + nm + b": v\r\nContent-Length: 5\r\n\r\nhello"))
    for i in range(len(value) + 1):
        for b in bad:
            v = value[:i].encode() + b + value[i:].encode()
            out.append((f"swar/value{i}-{b.hex()}", "req", start.encode() + b"X-V: " + v
                        + b"\r\nContent-Length: 5\r\n\r\nhello"))
            out.append((f"swar/rvalue{i}-{b.hex()}", "resp", b"HTTP/1.1 200 OK\r\nX-V: " + v
                        + b"\r\nContent-Length: 5\r\n\r\nhello"))
    for i in range(1, len(target) + 1):
        for b in bad:
            t = target[:i].encode() + b + target[i:].encode()
            out.append((f"swar/target{i}-{b.hex()}", "req", b"GET http://" + hp.encode() + t + b" HTTP/1.1\r\nHost: "
                        + hp.encode() + b"\r\n\r\n"))
            out.append((f"swar/otarget{i}-{b.hex()}", "req", b"GET " + t + b" HTTP/1.1\r\nHost: " + hp.encode()
                        + b"\r\n\r\n"))
    return out


def start_line_cases(hp):
    """Methods and versions near the ones the start-line fast paths recognise in a word."""
    methods = ["GET", "get", "Get", "GEt", "GETX", "GE", "G", "POST", "POSTT", "PUT", "HEAD", "HEADX", "DELETE",
               "OPTIONS", "OPTIONSX", "PATCH", "TRACE", "CONNECT", "CONNEC", "CONNECTX", "connect", "M-SEARCH",
               "X" * 20, "GET\x00", "G\x80T", "GE\tT", "[GET]", "GET/", "PRI", "ACL", "PROPFIND", "MKCOL"]
    versions = ["HTTP/1.1", "HTTP/1.0", "http/1.1", "HTTP/1.1 ", "HTTP/1.1\t", "HTTP/1.10", "HTTP/1.1x", "HTTP/1.",
                "HTTP/01.1", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/1,1", "HTTP/1.1\x00", "HTTP/1.1\x80", "HTTP1.1",
                "HTTP/11", "HTTP /1.1", "HTTQ/1.1", "HTTP/1.0 ", "", "HTTP/1.9", "HTTP/3.0", "HTTP/1.1HTTP/1.1"]
    out = []
    for mi, m in enumerate(methods):
        for vi, v in enumerate(versions):
            body = "Content-Length: 5\r\n\r\nhello" if mi % 2 else "\r\n"
            out.append((f"startline/{mi}-{vi}", "req",
                        f"{m} http://{hp}/s {v}\r\nHost: {hp}\r\n{body}".encode("latin-1")))
    return out


def value_cases(hp):
    """Values of the fields berth acts on, near the forms the fast paths read in a word (requests and responses)."""
    cl = ["5", "05", " 5", "5 ", "5\t", "\t5", "5,5", "5, 5", "5 ,5", "5,,5", ",5", "5,", "+5", "-5", "5.0", "0x5", "5e0",
          "9223372036854775807", "9223372036854775808", "18446744073709551616", "99999999999999999999",
          "0000000000000000000000000005", "5 5", "", "\x005", "5\x00", "\x805", "٥"]
    te = ["chunked", "Chunked", "CHUNKED", "chunked ", " chunked", "chunked\t", "chunked,", ",chunked", "chunked , ",
          "identity, chunked", "gzip, chunked", "chunked;q=1", "chunked, chunked", "chunke", "chunkedx", "xchunked",
          "chunked\x00", "chu nked", "\"chunked\""]
    conn = ["close", "Close", "CLOSE", "close ", "keep-alive, close", "close,", "closex", "xclose", "upgrade", ",,",
            "keep-alive", "Keep-Alive", "X-A, close", "close, X-A", "te", "content-length", "host", "\tclose"]
    out = []
    start = f"POST http://{hp}/v HTTP/1.1\r\nHost: {hp}\r\n"
    for i, v in enumerate(cl):
        out.append((f"values/cl{i}", "req", (start + f"Content-Length: {v}\r\n\r\nhello").encode("utf-8")))
        out.append((f"values/rcl{i}", "resp", f"HTTP/1.1 200 OK\r\nContent-Length: {v}\r\n\r\nhello".encode("utf-8")))
    for i, v in enumerate(te):
        out.append((f"values/te{i}", "req", (start + f"Transfer-Encoding: {v}\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                    .encode("latin-1")))
        out.append((f"values/te-cl{i}", "req", (start + f"Transfer-Encoding: {v}\r\nContent-Length: 5\r\n\r\nhello")
                    .encode("latin-1")))
        out.append((f"values/rte{i}", "resp", f"HTTP/1.1 200 OK\r\nTransfer-Encoding: {v}\r\n\r\n5\r\nhello\r\n0\r\n"
                    "\r\n".encode("latin-1")))
    for i, v in enumerate(conn):
        out.append((f"values/conn{i}", "req", (start + f"Connection: {v}\r\nX-A: 1\r\nTE: trailers\r\n"
                                                "Content-Length: 5\r\n\r\nhello").encode("latin-1")))
        out.append((f"values/rconn{i}", "resp", f"HTTP/1.1 200 OK\r\nConnection: {v}\r\nX-A: 1\r\nKeep-Alive: "
                    "timeout=4\r\nContent-Length: 5\r\n\r\nhello".encode("latin-1")))
        out.append((f"values/pconn{i}", "req", (start + f"Proxy-Connection: {v}\r\nKeep-Alive: timeout=1\r\n"
                                                 "Content-Length: 5\r\n\r\nhello").encode("latin-1")))
    return out
