"""Response framing differential: a hostile origin's CL/TE disagreements through berth, HAProxy and nginx.

    PYTHONPATH=tests:fuzz/differential BERTH_BIN=.build/release/berth python3 fuzz/differential/response_diff.py

Each case is one response the origin writes (then it waits 1 s and closes); the caller sends one GET and reads all it
gets. Prints what each caller received, with the framing a strict parser finds in it (`frame`), so a head that
says one framing and bytes that carry another stand out, and `POISONED` when an unsolicited response that followed a
`RAW` case reached the caller. About 60 seconds.
"""
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time

from berthkit import RawOrigin
from berthkit.process import Berth
from smuggle_diff import start_haproxy, start_nginx, stop_all

BODY = b"hello"
CHUNKED = b"5\r\nhello\r\n0\r\n\r\n"
CASES = [
    ("cl-te", b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", CHUNKED),
    ("te-cl", b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", CHUNKED),
    ("te-twice", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", CHUNKED),
    ("te-empty-element", b"Transfer-Encoding: , chunked\r\n", CHUNKED),
    ("te-chunked-gzip", b"Transfer-Encoding: chunked, gzip\r\n", CHUNKED),
    ("te-gzip", b"Transfer-Encoding: gzip\r\n", BODY),
    ("te-identity", b"Transfer-Encoding: identity\r\n", BODY),
    ("te-Chunked-tab", b"Transfer-Encoding:\tChunked\t\r\n", CHUNKED),
    ("cl-list-differ", b"Content-Length: 5, 6\r\n", BODY),
    ("cl-list-same", b"Content-Length: 5, 5\r\n", BODY),
    ("cl-plus", b"Content-Length: +5\r\n", BODY),
    ("cl-dup-differ", b"Content-Length: 5\r\nContent-Length: 3\r\n", BODY),
    ("cl-space-before-colon", b"Content-Length : 3\r\n", BODY),
    ("cl-short-body", b"Content-Length: 3\r\n", BODY),
    ("connection-cl", b"Connection: content-length\r\nContent-Length: 5\r\n", BODY),
    ("connection-te", b"Connection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n", CHUNKED),
    ("chunk-ext-bws", b"Transfer-Encoding: chunked\r\n", b"5 ;a=b\r\nhello\r\n0\r\n\r\n"),
    ("chunk-bare-lf", b"Transfer-Encoding: chunked\r\n", b"5\nhello\r\n0\r\n\r\n"),
    ("chunk-trailer-cl", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\nContent-Length: 9\r\n\r\n"),
    # chunk extensions and trailer sections (trail2)
    ("chunk-ext-5k", b"Transfer-Encoding: chunked\r\n", b"5;e=" + b"x" * 5000 + b"\r\nhello\r\n0\r\n\r\n"),
    ("last-chunk-ext-5k", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0;e=" + b"x" * 5000 + b"\r\n\r\n"),
    ("last-chunk-zeros-16", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n" + b"0" * 16 + b"\r\n\r\n"),
    ("trailer-obs-fold", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\nX-A: 1\r\n folded\r\n\r\n"),
    ("trailer-bare-lf", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\nX-A: 1\n\r\n"),
    ("trailer-bare-cr", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\nX-A: 1\rX-B: 2\r\n\r\n"),
    ("trailer-nul", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\nX-A: a\x00b\r\n\r\n"),
    ("trailer-17k", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\nX-A: " + b"t" * 17000 + b"\r\n\r\n"),
    ("http10-te", b"", CHUNKED),
]
# smug2: whole responses written as they are (status lines, interim and bodiless answers, chunk-size spellings),
# each followed by an unsolicited response that must never reach a caller.
POISON = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nPOISONED"
TE = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
RAW = {
    "s2-100-with-body": b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "s2-204-with-body": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
    "s2-304-chunked-body": b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNKED,
    "s2-chunk-0x": TE + b"0x5\r\nhello\r\n0\r\n\r\n",
    "s2-chunk-plus": TE + b"+5\r\nhello\r\n0\r\n\r\n",
    "s2-chunk-semi": TE + b"5;\r\nhello\r\n0\r\n\r\n",
    "s2-chunk-zeros-20": TE + b"00000000000000000005\r\nhello\r\n0\r\n\r\n",
    "s2-chunk-u64-overflow": TE + b"ffffffffffffffff1\r\nhello\r\n0\r\n\r\n",
    "s2-chunk-data-XX": TE + b"5\r\nhelloXX0\r\n\r\n",
    "s2-chunk-data-CR": TE + b"5\r\nhello\r0\r\n\r\n",
    "s2-last-chunk-zeros-ext": TE + b"5\r\nhello\r\n000;a=b\r\n\r\n",
    "s2-status-bare-lf": b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
    "s2-status-leading-crlf": b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "s2-status-4-digits": b"HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nhello",
    "s2-status-099": b"HTTP/1.1 099 X\r\nContent-Length: 5\r\n\r\nhello",
    "s2-status-http12": b"HTTP/1.2 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "s2-status-no-reason": b"HTTP/1.1 200\r\nContent-Length: 5\r\n\r\nhello",
    "s2-cl-obs-fold": b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 5\r\n\r\nhello",
    "s2-te-vtab": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \x0bchunked\r\n\r\n" + CHUNKED,
    "s2-te-identity-cl": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello",
    "s2-101-unasked": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
    "s2-continue-flood": b"HTTP/1.1 100 Continue\r\n\r\n" * 2000 + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
}
CASES += [(name, None, raw) for name, raw in RAW.items()]


def serve(conn):
    """One origin connection (a berthkit RawOrigin's): the case its request's target names, written as it is (a RAW
    case whole, then POISON), then 0.4 s and the close."""
    c = conn.sock
    data = b""
    while b"\r\n\r\n" not in data:
        got = c.recv(65536)
        if not got:
            return
        data += got
    name = re.search(rb"/r/([\w-]+)", data).group(1).decode()
    fields, body = dict((n, (f, b)) for n, f, b in CASES)[name]
    version = b"HTTP/1.0" if name == "http10-te" else b"HTTP/1.1"
    if name == "http10-te":
        fields = b"Transfer-Encoding: chunked\r\n"
    if fields is None:
        c.sendall(body + POISON)
    else:
        c.sendall(version + b" 200 OK\r\n" + fields + b"\r\n" + body)
    time.sleep(0.4)


def fetch(port, target):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    host = target.split("/")[2]
    s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    data, how = b"", "timeout"
    try:
        while True:
            got = s.recv(65536)
            if not got:
                how = "fin"
                break
            data += got
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        pass
    s.close()
    return data, how


def frame(raw):
    """What a strict caller makes of the answer: status, framing field lines, the body it frames, leftover bytes."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = lines[0][9:12].decode() if lines and lines[0].startswith(b"HTTP/") else None
    framing = [ln.decode("latin-1") for ln in lines[1:] if ln.lower().split(b":")[0] in (b"content-length", b"transfer-encoding")]
    te = [ln.split(b":", 1)[1].strip().lower() for ln in lines[1:] if ln.lower().startswith(b"transfer-encoding:")]
    cl = [ln.split(b":", 1)[1].strip() for ln in lines[1:] if ln.lower().startswith(b"content-length:")]
    if te and te[-1].endswith(b"chunked"):
        body, at = b"", 0
        while True:
            m = re.match(rb"([0-9a-fA-F]{1,16})(?:[ \t]*;[^\r\n]*)?\r\n", rest[at:])
            if not m:
                return status, framing, ("chunked-broken", body), rest[at:]
            n, at = int(m.group(1), 16), at + m.end()
            if n == 0:
                end = rest.find(b"\r\n\r\n", at - 2)
                return status, framing, ("chunked", body), rest[end + 4:] if end >= 0 else rest[at:]
            body, at = body + rest[at:at + n], at + n + 2
    if cl:
        n = int(cl[0]) if cl[0].isdigit() else 0
        return status, framing, ("length", rest[:n]), rest[n:]
    return status, framing, ("close", rest), b""


def main():
    work = tempfile.mkdtemp(prefix="berth-respdiff-")
    o = RawOrigin(serve, conn_timeout=3)
    oport = o.port
    started = []
    try:
        b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                   "--log-level", "error"], log_path=os.path.join(work, "berth.stderr"))
        started.append(b)
        proxies = {"berth": b.proxy[1]}
        for pname, start in (("haproxy", start_haproxy), ("nginx", start_nginx)):
            if shutil.which(pname) or os.path.exists(f"/usr/sbin/{pname}"):
                p, port = start(work, oport)
                started.append(p)
                proxies[pname] = port
        for name, _, _ in CASES:
            print(name)
            results = {}

            def one(pname, port):
                results[pname] = fetch(port, f"http://127.0.0.1:{oport}/r/{name}")

            threads = [threading.Thread(target=one, args=kv) for kv in proxies.items()]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for pname, (raw, how) in results.items():
                status, framing, body, left = frame(raw)
                mark = " POISONED" if b"POISONED" in raw else ""
                print(f"    {pname:8} {status} {how:7} {framing} {body} left={left!r}{mark}")
    finally:
        stop_all(started)
        o.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
