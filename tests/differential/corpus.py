"""Generates the differential corpus: requests and responses, valid and invalid, smuggling vectors included.

Run `python corpus.py` to rewrite corpus.jsonl; test_llhttp.py checks the file is current.
Each line: {"id": str, "kind": "request"|"response", "hex": the message bytes}.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus.jsonl")


def requests():
    out = {}
    H = "Host: example.com\r\n"
    # Plain valid requests across methods and target forms.
    for m in ["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "PUT", "POST", "PATCH"]:
        out[f"req-{m.lower()}-origin"] = f"{m} /a/b?c=d HTTP/1.1\r\n{H}Accept: */*\r\n\r\n"
        out[f"req-{m.lower()}-absolute"] = f"{m} http://example.com:8080/x HTTP/1.1\r\n{H}\r\n"
        out[f"req-{m.lower()}-http10"] = f"{m} /x HTTP/1.0\r\n\r\n"
        out[f"req-{m.lower()}-cl"] = f"{m} /x HTTP/1.1\r\n{H}Content-Length: 5\r\n\r\nhello"
        out[f"req-{m.lower()}-chunked"] = f"{m} /x HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    out["req-connect"] = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
    out["req-options-star"] = f"OPTIONS * HTTP/1.1\r\n{H}\r\n"
    out["req-leading-crlf"] = f"\r\nGET / HTTP/1.1\r\n{H}\r\n"
    out["req-keepalive-10"] = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    out["req-close"] = f"GET / HTTP/1.1\r\n{H}Connection: close\r\n\r\n"
    out["req-upgrade"] = f"GET /ws HTTP/1.1\r\n{H}Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    out["req-expect"] = f"PUT /x HTTP/1.1\r\n{H}Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"
    out["req-cl-dup-same"] = f"POST / HTTP/1.1\r\n{H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc"
    out["req-cl-list-same"] = f"POST / HTTP/1.1\r\n{H}Content-Length: 3, 3\r\n\r\nabc"
    out["req-cl-zero"] = f"POST / HTTP/1.1\r\n{H}Content-Length: 0\r\n\r\n"
    out["req-chunk-ext"] = f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n"
    out["req-chunk-trailer"] = f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"
    out["req-chunk-upper-hex"] = f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"
    out["req-value-tab"] = f"GET / HTTP/1.1\r\n{H}X: a\tb\r\n\r\n"
    out["req-value-empty"] = f"GET / HTTP/1.1\r\n{H}X:\r\n\r\n"
    out["req-value-trailing-ws"] = f"GET / HTTP/1.1\r\n{H}X: a  \r\n\r\n"
    out["req-many-headers"] = "GET / HTTP/1.1\r\n" + H + "".join(f"X-{i}: {i}\r\n" for i in range(50)) + "\r\n"
    # CL.TE, TE.CL, TE.TE and friends.
    smuggle = {
        "cl-te": "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n",
        "te-cl": "Transfer-Encoding: chunked\r\nContent-Length: 6\r\n",
        "te-space-colon": "Transfer-Encoding : chunked\r\n",
        "te-tab-colon": "Transfer-Encoding\t: chunked\r\n",
        "te-xchunked": "Transfer-Encoding: xchunked\r\n",
        "te-tab-value": "Transfer-Encoding:\tchunked\r\n",
        "te-chunked-then-x": "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n",
        "te-x-then-chunked": "Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n",
        "te-chunked-twice": "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        "te-chunked-chunked-list": "Transfer-Encoding: chunked, chunked\r\n",
        "te-chunked-identity": "Transfer-Encoding: chunked, identity\r\n",
        "te-identity": "Transfer-Encoding: identity\r\n",
        "te-gzip-chunked": "Transfer-Encoding: gzip, chunked\r\n",
        "te-gzip": "Transfer-Encoding: gzip\r\n",
        "te-upper": "Transfer-Encoding: CHUNKED\r\n",
        "te-obs-fold": "Transfer-Encoding:\r\n chunked\r\n",
        "te-leading-space-line": "X: y\r\n Transfer-Encoding: chunked\r\n",
        "te-vtab": "Transfer-Encoding: \x0bchunked\r\n",
        "te-nul": "Transfer-Encoding: chunked\x00\r\n",
        "te-quoted": "Transfer-Encoding: \"chunked\"\r\n",
        "te-empty": "Transfer-Encoding: \r\n",
        "te-comma-chunked": "Transfer-Encoding: , chunked\r\n",
        "te-bare-lf": "Transfer-Encoding: chunked\nX: y\r\n",
        "te-bare-cr": "Transfer-Encoding: chunked\rX: y\r\n",
        "te-underscore": "Transfer_Encoding: chunked\r\n",
        "te-cl-negative": "Content-Length: -1\r\n",
        "cl-plus": "Content-Length: +6\r\n",
        "cl-conflict": "Content-Length: 6\r\nContent-Length: 7\r\n",
        "cl-conflict-list": "Content-Length: 6, 7\r\n",
        "cl-space-inside": "Content-Length: 6 6\r\n",
        "cl-hex": "Content-Length: 0x6\r\n",
        "cl-empty": "Content-Length: \r\n",
        "cl-overflow": "Content-Length: 99999999999999999999999\r\n",
        "cl-space-colon": "Content-Length : 6\r\n",
    }
    for name, hdrs in smuggle.items():
        out[f"req-smuggle-{name}"] = f"POST / HTTP/1.1\r\n{H}{hdrs}\r\n0\r\n\r\n"
    bad = {
        "method-paren": "G(T / HTTP/1.1\r\n" + H + "\r\n",
        "method-leading-space": " GET / HTTP/1.1\r\n" + H + "\r\n",
        "target-space": "GET /a b HTTP/1.1\r\n" + H + "\r\n",
        "target-fragment": "GET /a#b HTTP/1.1\r\n" + H + "\r\n",
        "target-ctl": "GET /a\x01b HTTP/1.1\r\n" + H + "\r\n",
        "target-del": "GET /a\x7fb HTTP/1.1\r\n" + H + "\r\n",
        "target-nonascii": "GET /caf\xe9 HTTP/1.1\r\n" + H + "\r\n",
        "double-space": "GET  / HTTP/1.1\r\n" + H + "\r\n",
        "version-20": "GET / HTTP/2.0\r\n" + H + "\r\n",
        "version-12": "GET / HTTP/1.2\r\n" + H + "\r\n",
        "version-09": "GET / HTTP/0.9\r\n" + H + "\r\n",
        "version-110": "GET / HTTP/1.10\r\n" + H + "\r\n",
        "version-lower": "GET / http/1.1\r\n" + H + "\r\n",
        "version-short": "GET / HTTP/1\r\n" + H + "\r\n",
        "no-version": "GET /\r\n" + H + "\r\n",
        "missing-host": "GET / HTTP/1.1\r\n\r\n",
        "two-hosts": "GET / HTTP/1.1\r\n" + H + H + "\r\n",
        "host-space": "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        "bare-lf-request-line": "GET / HTTP/1.1\n" + H + "\r\n",
        "bare-lf-end": "GET / HTTP/1.1\r\n" + H + "\n",
        "bare-cr-header": "GET / HTTP/1.1\r\n" + H + "X: a\rb\r\n\r\n",
        "empty-name": "GET / HTTP/1.1\r\n" + H + ": x\r\n\r\n",
        "no-colon": "GET / HTTP/1.1\r\n" + H + "NoColon\r\n\r\n",
        "name-nul": "GET / HTTP/1.1\r\n" + H + "X\x00: x\r\n\r\n",
        "value-nul": "GET / HTTP/1.1\r\n" + H + "X: a\x00\r\n\r\n",
        "value-del": "GET / HTTP/1.1\r\n" + H + "X: a\x7f\r\n\r\n",
        "value-esc": "GET / HTTP/1.1\r\n" + H + "X: a\x1b\r\n\r\n",
        "obs-fold": "GET / HTTP/1.1\r\n" + H + "X: a\r\n b\r\n\r\n",
        "asterisk-get": "GET * HTTP/1.1\r\n" + H + "\r\n",
        "connect-origin": "CONNECT / HTTP/1.1\r\n" + H + "\r\n",
        "connect-no-port": "CONNECT example.com HTTP/1.1\r\n" + H + "\r\n",
        "absolute-ftp": "GET ftp://example.com/ HTTP/1.1\r\n" + H + "\r\n",
        "authority-get": "GET example.com:80 HTTP/1.1\r\n" + H + "\r\n",
        "http10-te": "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "lowercase-method": "get / HTTP/1.1\r\n" + H + "\r\n",
        "unknown-method": "FROB / HTTP/1.1\r\n" + H + "\r\n",
    }
    for name, raw in bad.items():
        out[f"req-bad-{name}"] = raw
    chunk_bad = {
        "size-nonhex": "x\r\n",
        "size-negative": "-5\r\nhello\r\n0\r\n\r\n",
        "size-empty": "\r\nhello\r\n0\r\n\r\n",
        "size-overflow": "fffffffffffffffff\r\n",
        "size-space-after": "5 \r\nhello\r\n0\r\n\r\n",
        "size-bare-lf": "5\nhello\r\n0\r\n\r\n",
        "data-bare-lf": "5\r\nhello\n0\r\n\r\n",
        "data-too-long": "5\r\nhelloXX\r\n0\r\n\r\n",
        "final-bare-lf": "5\r\nhello\r\n0\r\n\n",
        "ext-ctl": "5;a\x01\r\nhello\r\n0\r\n\r\n",
        "trailer-obs-fold": "0\r\nX: a\r\n b\r\n\r\n",
        "trailer-space-colon": "0\r\nX : a\r\n\r\n",
    }
    for name, body in chunk_bad.items():
        out[f"req-chunk-{name}"] = f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n{body}"
    # Every valid request again with a body split into several chunks.
    for n in range(1, 6):
        chunks = "".join(f"{n:x}\r\n{'z' * n}\r\n" for _ in range(n))
        out[f"req-chunks-{n}"] = f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n{chunks}0\r\n\r\n"
    for i, path in enumerate(["/", "/%20", "/a;b", "/a?b=c&d", "/~user", "/a/../b", "/?", "//x", "/a:b@c",
                              "http://a", "http://a?x", "HTTP://A.COM/", "http://[::1]:80/", "http://a:65535/"]):
        out[f"req-path-{i}"] = f"GET {path} HTTP/1.1\r\n{H}\r\n"
    return out


def responses():
    out = {}
    for st, reason in [(200, "OK"), (201, "Created"), (301, "Moved"), (404, "Not Found"), (500, "Oops"), (999, "X")]:
        out[f"res-{st}-cl"] = f"HTTP/1.1 {st} {reason}\r\nContent-Length: 5\r\n\r\nhello"
        out[f"res-{st}-chunked"] = f"HTTP/1.1 {st} {reason}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        out[f"res-{st}-http10"] = f"HTTP/1.0 {st} {reason}\r\nContent-Length: 2\r\n\r\nhi"
    out["res-204"] = "HTTP/1.1 204 No Content\r\n\r\n"
    out["res-304"] = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"
    out["res-100"] = "HTTP/1.1 100 Continue\r\n\r\n"
    out["res-empty-reason"] = "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"
    out["res-no-reason"] = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"
    out["res-until-close"] = "HTTP/1.1 200 OK\r\n\r\nbody until close"
    out["res-te-gzip"] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nbody until close"
    out["res-te-gzip-chunked"] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
    out["res-trailer"] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: y\r\n\r\n"
    out["res-set-cookie"] = "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n"
    for n in range(6):
        out[f"res-cl-{n}"] = f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n" + "x" * n
    bad = {
        "cl-te": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "cl-conflict": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "cl-alpha": "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        "te-chunked-twice": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        "obs-fold": "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        "space-colon": "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
        "bare-lf": "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "bare-cr-split": "HTTP/1.1 200 OK\r\nX: a\rSet-Cookie: evil\r\nContent-Length: 0\r\n\r\n",
        "value-nul": "HTTP/1.1 200 OK\r\nX: a\x00\r\nContent-Length: 0\r\n\r\n",
        "reason-ctl": "HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n",
        "status-2digit": "HTTP/1.1 20 OK\r\n\r\n",
        "status-4digit": "HTTP/1.1 2000 OK\r\n\r\n",
        "status-alpha": "HTTP/1.1 abc OK\r\n\r\n",
        "status-099": "HTTP/1.1 099 OK\r\n\r\n",
        "double-space": "HTTP/1.1  200 OK\r\n\r\n",
        "version-20": "HTTP/2.0 200 OK\r\n\r\n",
        "version-lower": "http/1.1 200 OK\r\n\r\n",
        "version-110": "HTTP/1.10 200 OK\r\n\r\n",
        "icy": "ICY 200 OK\r\n\r\n",
        "leading-crlf": "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "chunk-bad-size": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "chunk-bare-lf": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
    }
    for name, raw in bad.items():
        out[f"res-bad-{name}"] = raw
    return out


def build():
    rows = []
    for kind, table in (("request", requests()), ("response", responses())):
        for ident, text in table.items():
            rows.append({"id": ident, "kind": kind, "hex": text.encode("latin-1").hex()})
    return rows


def write():
    with open(CORPUS, "w") as f:
        for row in build():
            f.write(json.dumps(row, sort_keys=True) + "\n")


if __name__ == "__main__":
    write()
    print(len(build()), "messages written to", CORPUS)
