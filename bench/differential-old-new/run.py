"""Old-vs-new differential of two berth binaries: the same bytes through each to a raw origin, comparing what the
caller gets back and the exact bytes the origin receives (forwarded head and body), normalised only for what two
instances legitimately differ in (Via token, origin address, Date, Keep-Alive timeout line is kept).

    PYTHONPATH=tests /work/venv/bin/python bench/differential-old-new/run.py OLD_BIN NEW_BIN [--limit N] [--out F]
"""
import argparse
import json
import random
import re
import socket
import sys
import threading
import time

from berthkit import Berth, RawOrigin

import cases as C

CALLER_TIMEOUT = 3.0


class Recorder:
    """The origin of one berth: records every byte it receives; answers each whole forwarded request with
    `script` (None: a 200 with 'ok', kept alive), a scripted response being followed by its FIN."""

    def __init__(self, host):
        self.log = bytearray()
        self.lock = threading.Lock()
        self.script = None
        self.origin = RawOrigin(self.handle, host=host, conn_timeout=5.0)

    def take(self):
        with self.lock:
            out = bytes(self.log)
            self.log.clear()
        return out

    def handle(self, conn):
        sock, buf = conn.sock, b""
        while True:
            data = sock.recv(65536)
            if not data:
                return
            with self.lock:
                self.log += data
            buf += data
            while True:
                n, method = whole_request(buf)
                if n is None:
                    break
                buf = buf[n:]
                script = self.script
                if script is None:
                    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + (b"" if method == b"HEAD" else b"ok"))
                else:
                    data, split = script if isinstance(script, tuple) else (script, None)
                    if split == "drip":
                        for i in range(len(data) - 1):
                            sock.sendall(data[i:i + 1])
                            time.sleep(0.0005)
                        data = data[-1:]
                    elif split is not None:  # the head (or body) in two reads on berth's side
                        sock.sendall(data[:split])
                        time.sleep(0.01)
                        data = data[split:]
                    sock.sendall(data)
                    sock.shutdown(socket.SHUT_WR)


def whole_request(buf):
    """(length of the first whole request in buf, its method), or (None, None) while it is incomplete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, None
    head = buf[:end].decode("latin-1").split("\r\n")
    method = head[0].split(" ")[0].encode()
    fields = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        fields.setdefault(k.strip().lower(), v.strip().lower())
    pos = end + 4
    if "chunked" in fields.get("transfer-encoding", ""):
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None, None
            try:
                size = int(buf[pos:eol].split(b";")[0], 16)
            except ValueError:
                return len(buf), method
            pos = eol + 2
            if size == 0:
                t = buf.find(b"\r\n\r\n", pos - 2)
                return (t + 4, method) if t >= 0 else (None, None)
            pos += size + 2
            if pos > len(buf):
                return None, None
    if "content-length" in fields:
        try:
            pos += int(fields["content-length"])
        except ValueError:
            pass
    return (pos, method) if pos <= len(buf) else (None, None)


def caller(proxy, data, split=None, half_close=True):
    """Sends data (in two writes when split, a byte a write for 'drip'), half-closes, reads to the end:
    (bytes, 'fin'|'reset'|'timeout'). Without the half-close the read ends after 0.3 s of silence ('open': berth
    kept the connection). A send that fails (berth answered and closed early) still reads what arrived."""
    s = socket.create_connection(proxy, timeout=CALLER_TIMEOUT if half_close else 0.3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got, end = b"", "fin"
    try:
        if split is None:
            s.sendall(data)
        elif split == "drip":  # every incremental path of the head lexer
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(0.0005)
        else:
            s.sendall(data[:split])
            time.sleep(0.01)
            s.sendall(data[split:])
        if half_close:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        end = "send-failed"
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except socket.timeout:
        end = "timeout" if half_close else "open"
    except OSError:  # reset
        end = "reset"
    finally:
        s.close()
    return got, end


class Side:
    """One berth and its origin."""

    def __init__(self, binary):
        self.binary = binary
        self.rec = Recorder("127.0.0.1")

    def respawn(self):
        self.rec.origin.close()
        self.rec = Recorder("127.0.0.1")

    @property
    def port(self):
        return self.rec.origin.port

    @property
    def hp(self):
        return f"127.0.0.1:{self.port}"

    @property
    def portb(self):
        return str(self.port).encode()

    def start(self):
        self.berth = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"],
                           binary=self.binary)

    def run(self, kind, data):
        if kind in ("resp", "resp-ka", "resp-split"):
            self.rec.script = data
            req = f"GET http://{self.hp}/r HTTP/1.1\r\nHost: {self.hp}\r\n\r\n".encode()
            got, end = caller(self.berth.proxy, req, half_close=kind != "resp-ka")
        else:
            self.rec.script = None
            if kind == "req-ka":
                got, end = caller(self.berth.proxy, data.replace(C.PORT_OLD, self.portb), half_close=False)
            elif kind == "split":
                data, split = data
                got, end = caller(self.berth.proxy, data.replace(C.PORT_OLD, self.portb), split)
            elif kind == "pipe":
                data, split = data
                # No half-close: after a caller's FIN, berth answers the request in hand and may drop the pipelined
                # ones behind it depending on when it reads the FIN; the last request's Connection: close ends it.
                got, end = caller(self.berth.proxy, data.replace(C.PORT_OLD, self.portb), split, half_close=False)
            else:
                got, end = caller(self.berth.proxy, data.replace(C.PORT_OLD, self.portb))
        time.sleep(0.002)
        return got, end, self.rec.take()


VIA = re.compile(rb"(?im)^(via:[^\r\n]*berth)[^\r\n]*")
DATE = re.compile(rb"(?im)^date:[^\r\n]*")


# How long a failed name lookup took decides berth's wording (and so its length): timing, not code.
DNS = re.compile(rb"Content-Length: \d+(\r\n(?:[^\r\n]+\r\n)*\r\nberth: dns-failure: \S+ did not resolve)[^\n]*\n")


def normalise(b, port):
    if b.startswith(b"\x16\x03"):  # berth's TLS ClientHello to a plain origin (an https:// target): random bytes
        return b"TLS ClientHello"
    b = b.replace(port, b"PORT")
    b = VIA.sub(rb"\1 TOKEN", b)
    b = DNS.sub(rb"Content-Length: N\1\n", b)
    return DATE.sub(b"Date: D", b)


def summary(got, end):
    lines = re.findall(rb"HTTP/1\.[01] \d\d\d[^\r\n]*", got)
    errs = re.findall(rb"(?im)^berth-error:[^\r\n]*", got)
    return {"status": [x.decode("latin-1") for x in lines], "berth_error": [x.decode("latin-1") for x in errs],
            "end": end}


REF_PORT = 54321  # the port the cases are written with; each side replaces it with its origin's (same length)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--limit", type=int, default=20000)
    ap.add_argument("--only", default="", help="run the cases whose id contains this")
    ap.add_argument("--ids", default="", help="a file of case ids to run (one a line)")
    ap.add_argument("--seed", type=int, default=22)
    ap.add_argument("--lanes", type=int, default=1, help="pairs of berths run side by side, each on its own cases")
    ap.add_argument("--keep", action="store_true", help="the caller never half-closes (reads until 0.3 s of silence)")
    ap.add_argument("--out", default="/tmp/differential-old-new.json")
    ap.add_argument("--reruns", type=int, default=2)
    args = ap.parse_args()
    C.PORT_OLD = str(REF_PORT).encode()
    rng = random.Random(args.seed)
    hp = f"127.0.0.1:{REF_PORT}"
    allc = (C.request_cases(hp, REF_PORT, rng) + C.pipeline_cases(hp) + C.response_cases(rng)
            + C.split_and_block_cases(hp, rng))
    seen = {}
    for i, (cid, kind, data) in enumerate(allc):  # random flips can repeat an id: each id once
        seen[cid] = seen.get(cid, 0) + 1
        if seen[cid] > 1:
            allc[i] = (f"{cid}#{seen[cid]}", kind, data)
    allc = [c for c in allc if args.only in c[0]]
    if args.ids:
        wanted = set(open(args.ids).read().split())
        allc = [c for c in allc if c[0] in wanted]
    allc = allc[:args.limit]
    if args.keep:
        allc = [(cid, {"req": "req-ka", "resp": "resp-ka"}.get(k, k), d) for cid, k, d in allc if k != "split"]
    print(f"{len(allc)} cases", file=sys.stderr)
    lanes = []
    for _ in range(args.lanes):
        # Each origin on a 5-digit port of its own, so the authorities have the cases' length at every offset.
        pair = [Side(args.old), Side(args.new)]
        while any(len(str(s.port)) != 5 for s in pair):
            for s in pair:
                s.respawn()
        for s in pair:
            s.start()
        lanes.append(pair)
    results = [{}, {}]

    def drive(lane, i):
        for cid, kind, data in allc[lane::args.lanes]:
            results[i][cid] = (lane, lanes[lane][i].run(kind, data))

    t0 = time.monotonic()
    ts = [threading.Thread(target=drive, args=(lane, i)) for lane in range(args.lanes) for i in range(2)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    print(f"ran in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    diffs = []
    for cid, kind, data in allc:
        lane = results[0][cid][0]
        pair = lanes[lane]
        o, n = (compare_view(results[i][cid][1], pair[i].portb, kind) for i in range(2))
        if o == n:
            continue
        # A difference that does not reproduce the same way each time is timing, not the code.
        stable = True
        for _ in range(args.reruns):
            r = [compare_view(pair[i].run(kind, data), pair[i].portb, kind) for i in range(2)]
            if r[0] != o or r[1] != n:
                stable = False
        diffs.append({"id": cid, "kind": kind, "stable": stable, "input": _hex(data), "old": _show(o),
                      "new": _show(n)})
    for pair in lanes:
        for s in pair:
            s.berth.stop()
            s.rec.origin.close()
    with open(args.out, "w") as f:
        json.dump({"cases": len(allc), "diffs": diffs}, f, indent=1)
    print(f"{len(diffs)} differences ({sum(d['stable'] for d in diffs)} stable) -> {args.out}", file=sys.stderr)


# After the caller's FIN berth answers `Connection: close` or its Keep-Alive line depending on whether it read the
# FIN before it wrote the head: timing, not code. Compared only where the caller keeps its connection (resp-ka).
CALLER_CLOSE = re.compile(rb"(?im)^(connection: close|connection: keep-alive|keep-alive: timeout=\d+)\r\n")


def compare_view(r, portb, kind):
    got, end, up = r
    got = normalise(got, portb)
    if kind not in ("resp-ka", "req-ka", "pipe"):
        got = CALLER_CLOSE.sub(b"", got)
    return got, end, normalise(up, portb)


def _hex(d):
    return d.hex() if isinstance(d, bytes) else {"data": d[0].hex(), "split": d[1]}


def _show(v):
    got, end, up = v
    return {"caller": got.decode("latin-1"), "end": end, "origin": up.decode("latin-1"), **summary(got, end)}


if __name__ == "__main__":
    main()
