#!/usr/bin/env python3
"""Differential of two berth builds over the same seeded request sequences (the walk's review: a bodiless send with
no relay turn, the exchange cleared at its end). Each case is one caller connection carrying 1-6 requests (GET,
HEAD, POST, PUT, DELETE; no body, Content-Length 0 or n, chunked with zero or more chunks; HTTP/1.0 or 1.1; the
last one sometimes Connection: close), sent all at once, one by one after each answer, or spaced while the one before
is at the origin, sometimes with the caller's FIN after the last. A recording origin answers each as its target
says (status, Content-Length / chunked / until-close body, delay, close after). Compared per case: the caller's bytes
(Date, Via and the origin's port masked) and how its connection ended, what the origin read (method, target,
fields but Via, body), and at the end the access lines (method, target, status, berth_error, bytes_in, bytes_out,
attempts) and /stats requests and failures of the upstream.
Usage: walk_diff.py --old BIN --new BIN [--seed 1] [--cases 200] [--only CASE] [--bad-heads]; exit 1 on a difference (printed with its case)."""
import argparse
import json
import random
import re
import socket
import sys
import threading
import time

import berthkit

print = __import__("functools").partial(print, flush=True)


class Origin:
    """Answers each request as its target's query says; records what it read, in order."""

    def __init__(self):
        self.seen = []
        self.lock = threading.Lock()
        self.raw = berthkit.RawOrigin(self.serve, conn_timeout=10)
        self.port = self.raw.port

    def serve(self, conn):
        c = conn.sock
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                fields = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:]]
                low = {k.lower(): v for k, v in fields}
                body = b""
                if "chunked" in low.get("transfer-encoding", "").lower():
                    while True:
                        while b"\r\n" not in buf:
                            buf += c.recv(65536)
                        size_line, _, buf = buf.partition(b"\r\n")
                        n = int(size_line.split(b";")[0], 16)
                        while len(buf) < n + 2:
                            buf += c.recv(65536)
                        body += buf[:n]
                        buf = buf[n + 2:]
                        if n == 0:
                            break
                elif "content-length" in low:
                    n = int(low["content-length"])
                    while len(buf) < n:
                        buf += c.recv(65536)
                    body, buf = buf[:n], buf[n:]
                kept = [(k.lower(), v) for k, v in fields if k.lower() not in ("via",)]
                with self.lock:
                    self.seen.append((method, target, kept, body))
                q = dict(p.split("=") for p in target.split("?", 1)[1].split("&")) if "?" in target else {}
                time.sleep(int(q.get("d", "0")) / 1000)
                if q.get("x") == "drop":
                    return
                if q.get("i") == "1":
                    c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                status = int(q.get("s", "200"))
                payload = (f"{method} {target} " * int(q.get("n", "1"))).encode() + body
                frame = q.get("f", "cl")
                close = q.get("c") == "1" or frame == "close"
                hdr = f"HTTP/1.1 {status} X\r\n"
                if close:
                    hdr += "Connection: close\r\n"
                bodiless = method == "HEAD" or status in (204, 304)
                if frame == "cl":
                    out = (hdr + f"Content-Length: {len(payload)}\r\n\r\n").encode() + (b"" if bodiless else payload)
                elif frame == "chunked":
                    out = (hdr + "Transfer-Encoding: chunked\r\n\r\n").encode()
                    if not bodiless:
                        out += f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n"
                else:
                    out = (hdr + "\r\n").encode() + (b"" if bodiless else payload)
                if q.get("e") == "1":
                    out += b"HTTP/1.1 200 X\r\nContent-Length: 5\r\n\r\nextra"
                c.sendall(out)
                if close:
                    return
        except ValueError:
            return


def make_case(rng, port, case, bad_heads=False):
    """(requests as bytes with their method and whether the connection ends after, pacing, FIN after the last)."""
    reqs = []
    for i in range(rng.randint(1, 6)):
        method = rng.choice(["GET", "GET", "HEAD", "POST", "PUT", "DELETE"])
        version = "HTTP/1.0" if rng.random() < 0.1 else "HTTP/1.1"
        q = {"s": rng.choice([200, 200, 200, 204, 304, 404, 500]), "f": rng.choice(["cl", "cl", "chunked", "close"]),
             "d": rng.choice([0, 0, 0, 5, 30]), "n": rng.choice([1, 1, 50, 3000])}
        if rng.random() < 0.1:
            q["c"] = 1
        if rng.random() < 0.05:
            q["x"] = "drop"
        if rng.random() < 0.1:
            q["i"] = 1
        if rng.random() < 0.05:
            q["e"] = 1
        target = f"/c{case}/{i}?" + "&".join(f"{k}={v}" for k, v in q.items())
        extra = ""
        body = b""
        kind = rng.choice(["none", "none", "cl0", "cl", "chunked0", "chunked"])
        if kind == "cl0":
            extra += "Content-Length: 0\r\n"
        elif kind == "cl":
            body = bytes(rng.randrange(256) for _ in range(rng.choice([1, 10, 5000])))
            extra += f"Content-Length: {len(body)}\r\n"
        elif kind == "chunked0":
            extra += "Transfer-Encoding: chunked\r\n"
            body = b"0\r\n\r\n"
        elif kind == "chunked":
            extra += "Transfer-Encoding: chunked\r\n"
            parts = [bytes(rng.randrange(256) for _ in range(rng.choice([1, 7, 300]))) for _ in range(rng.randint(1, 3))]
            body = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"
        if rng.random() < 0.1:
            extra += "Expect: 100-continue\r\n"
        if rng.random() < 0.05:
            extra += "Connection: upgrade\r\nUpgrade: websocket\r\n"
        if version == "HTTP/1.0" and kind.startswith("chunked"):
            version = "HTTP/1.1"
        last = False
        if version == "HTTP/1.0":
            if rng.random() < 0.5:
                extra += "Connection: keep-alive\r\n"
            else:
                last = True
        elif rng.random() < 0.1:
            extra += "Connection: close\r\n"
            last = True
        if q.get("c") == 1 or q["f"] == "close" or q.get("x") or q.get("e"):
            last = True
        wire = f"{method} {target} {version}\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode() + body
        reqs.append((wire, method, last))
        if last:
            break
    if bad_heads and not reqs[-1][2] and rng.random() < 0.3:
        # A head berth cannot read after the kept ones (its 400 and close).
        reqs.append((b"GET /bad HTTP/1.1\r\nBad Header\r\n\r\n", "GET", True))
    return reqs, rng.choice(["burst", "wait", "spaced"]), rng.random() < 0.3


def run_case(proxy, reqs, pacing, fin):
    s = socket.create_connection(proxy, timeout=10)
    got = b""
    how = "fin"
    try:
        if pacing == "burst":
            s.sendall(b"".join(w for w, _, _ in reqs))
        for i, (wire, _, _) in enumerate(reqs):
            if pacing == "spaced":
                s.sendall(wire)
                time.sleep(0.01)
            elif pacing == "wait":
                s.sendall(wire)
                # Wait for this answer's head (good enough pacing: the next goes after it started).
                deadline = time.monotonic() + 5
                want = got.count(b"HTTP/1.") + 1
                while got.count(b"HTTP/1.") < want and time.monotonic() < deadline:
                    s.settimeout(max(0.05, deadline - time.monotonic()))
                    try:
                        d = s.recv(65536)
                    except socket.timeout:
                        break
                    except ConnectionResetError:
                        how = "reset"
                        break
                    if not d:
                        break
                    got += d
                time.sleep(0.05)
        if fin:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        deadline = time.monotonic() + (3 if reqs[-1][2] or fin else 1.5)
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                d = s.recv(65536)
            except socket.timeout:
                how = "open"
                break
            except ConnectionResetError:
                how = "reset"
                break
            if not d:
                how = "fin"
                break
            got += d
        else:
            how = "open"
    finally:
        s.close()
    return got, how


def mask(raw, port):
    raw = raw.replace(str(port).encode(), b"PORT")
    raw = re.sub(rb"(?im)^(date|via): [^\r\n]*\r\n", rb"\1: *\r\n", raw)
    return raw


def responses(raw, methods):
    """The caller's bytes as (head, body) per response, a chunked body decoded: the sizes of a body berth re-chunks
    follow its reads, which follow timing and the pooled connection's read size, not the exchange. What does not
    parse is kept as it came."""
    out = []
    i = 0
    for method in methods:
        while True:
            end = raw.find(b"\r\n\r\n", i)
            if end < 0:
                return out + [("rest", raw[i:])]
            head = raw[i:end + 4]
            i = end + 4
            if not head.startswith(b"HTTP/1.1 1"):
                break
            out.append((head, b""))
        status = int(head.split(b" ")[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])}
        if method == "HEAD" or status in (204, 304):
            out.append((head, b""))
        elif b"content-length" in fields:
            n = int(fields[b"content-length"])
            out.append((head, raw[i:i + n]))
            i += n
        elif b"transfer-encoding" in fields:
            body = b""
            try:
                while True:
                    line_end = raw.index(b"\r\n", i)
                    n = int(raw[i:line_end].split(b";")[0], 16)
                    body += raw[line_end + 2:line_end + 2 + n]
                    i = line_end + 2 + n + 2
                    if n == 0:
                        break
            except ValueError:
                return out + [(head, "broken chunked", raw[i:])]
            out.append((head, body))
        else:
            out.append((head, raw[i:]))
            return out
    return out + ([("rest", raw[i:])] if i < len(raw) else [])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--only", type=int, help="run only this case of the seed (to replay a difference)")
    ap.add_argument("--bad-heads", action="store_true", help="end some cases with a head berth cannot read")
    a = ap.parse_args()
    sides = {}
    for name in ("old", "new"):
        o = Origin()
        b = berthkit.Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                            "--access-log", "--log-format", "json", "--workers", "1"], binary=getattr(a, name))
        sides[name] = (o, b)
    findings = 0
    rng = random.Random(a.seed)
    try:
        for case in range(a.cases):
            reqs, pacing, fin = make_case(random.Random(rng.random()), 0, case, a.bad_heads)
            if a.only is not None and case != a.only:
                continue
            results = {}
            for name, (o, b) in sides.items():
                real = [(w.replace(b"127.0.0.1:0\r", f"127.0.0.1:{o.port}\r".encode()), m, l) for w, m, l in reqs]
                got, how = run_case(b.proxy, real, pacing, fin)
                time.sleep(0.05)
                with o.lock:
                    seen = [x for x in o.seen if x[1].startswith(f"/c{case}/")]
                results[name] = (responses(mask(got, o.port), [m for _, m, _ in reqs]), how, [(m, t, [(k, v.replace(str(o.port), "PORT")) for k, v in f], body)
                                                         for m, t, f, body in seen])
            if results["old"] != results["new"]:
                findings += 1
                print(f"DIFF case {case} pacing={pacing} fin={fin}")
                for w, _, _ in reqs:
                    print("  >", w[:200])
                for name in ("old", "new"):
                    got, how, seen = results[name]
                    print(f"  {name}: end={how} caller={repr(got)[:600]}")
                    print(f"  {name}: origin={[(m, t, len(body)) for m, t, _, body in seen]}")
        logs = {}
        for name, (o, b) in sides.items():
            lines = [json.loads(x) for x in b.stderr_text().splitlines() if x.startswith("{")]
            logs[name] = [(d["method"], d["target"], d["status"], d["berth_error"], d["bytes_in"], d["bytes_out"],
                           d["attempts"]) for d in lines if d.get("msg") == "access"]
            up = berthkit.upstream_stats(b, f"127.0.0.1:{o.port}")
            logs[name + "-stats"] = (up["requests"], up.get("failures"))
        if logs["old"] != logs["new"]:
            findings += 1
            print("DIFF access log:")
            for x, y in zip(logs["old"], logs["new"]):
                if x != y:
                    print("  old", x, "\n  new", y)
            print("  lengths", len(logs["old"]), len(logs["new"]))
        if logs["old-stats"] != logs["new-stats"]:
            findings += 1
            print("DIFF stats", logs["old-stats"], logs["new-stats"])
        print(f"{a.cases} cases, {len(logs['new'])} access lines, stats {logs['new-stats']}, {findings} findings")
    finally:
        for o, b in sides.values():
            b.stop()
            o.raw.close()
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
