"""Generated response differential: seeded hostile responses, each followed by an unsolicited one, through the three.

    fuzz/differential/response_gen_diff.py [--cases 1000] [--seed N] [--lanes 8] [--only gNNNNN] [--berth-only]

Case i: caller A asks for /gNNNNN (and, half the time, /aNNNNN right behind it); the origin answers with a valid
response (`hello` or up to 100,000 bytes, CL or chunked) whose status line, framing fields, chunk sizes, line ends or
field names are spelled oddly (one to three of them, smuggle_gen's spellings), then at once `POISON` (the whole
now and then in pieces 2 ms apart), and keeps the connection. Caller B then asks (a new connection) for /bNNNNN,
which the origin answers with `X-Case: bNNNNN`. A finding for berth: B gets anything but its own answer (a proxy
that framed A's answer short reuses the upstream connection and hands B the rest), A's bytes frame as more than one
final response (two when it sent two, the second its own), or a response framed as `POISONED` reaches either.
Candidates are run again alone; the seed is printed.
"""
import argparse
import random
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import os

import gen_diff
import smuggle_diff as sd
from berthkit import RawOrigin
from berthkit.process import Berth
from smuggle_gen import TE_VALUES, Builder, chunked_body, cl_value

POISON = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nPOISONED"
RESP_AXES = ["status", "cl", "te", "chunk", "chunkend", "eol", "name", "fold", "interim", "conn", "size", "chunks"]
SIZES = [1, 4095, 4096, 4097, 16384, 16385, 65536, 65537, 100000]


def make(seed, i, head_request):
    """Case i's response bytes (POISON not included) and its name."""
    rng = random.Random(seed * 1_000_033 + i)
    b = Builder(rng, "", "127.0.0.1:1")
    odd = set(rng.sample(RESP_AXES, rng.choice([1, 1, 1, 2, 2, 3])))
    kind = "chunked" if odd & {"te", "chunk", "chunkend", "chunks"} or rng.random() < 0.4 else "cl"
    b.labels.append(kind)
    status = "HTTP/1.1 200 OK"
    if "status" in odd:
        status = b.pick("status", [("http10", "HTTP/1.0 200 OK"), ("no-reason", "HTTP/1.1 200"), ("204", "HTTP/1.1 204 No Content"),
                                   ("304", "HTTP/1.1 304 Not Modified"), ("099", "HTTP/1.1 099 X"), ("2000", "HTTP/1.1 2000 OK"),
                                   ("lower", "http/1.1 200 OK"), ("http12", "HTTP/1.2 200 OK"), ("two-sp", "HTTP/1.1  200 OK"),
                                   ("205", "HTTP/1.1 205 Reset Content"), ("lead-crlf", "\r\nHTTP/1.1 200 OK"),
                                   ("101", "HTTP/1.1 101 Switching Protocols"), ("tab", "HTTP/1.1\t200 OK")])
    fields = [["X-Case", f"g{i:05d}"]]
    body = "hello"
    if "size" in odd:
        # A response and a last chunk as data, across read-buffer sizes.
        size = rng.choice(SIZES)
        body = (("0\r\n\r\n" + POISON.decode() + "\r\n" + "d" * rng.randrange(1, 50)) * (size // 40 + 1))[:size]
        b.label("size", size)
    if kind == "cl":
        fields.append(["Content-Length", str(len(body))])
        if "cl" in odd:
            form = rng.choice(["value", "value", "dup-differ", "dup-same", "with-te"])
            if form == "value":
                name, fields[-1][1] = cl_value(rng, len(body))
                b.label("cl", name)
            else:
                b.label("cl", form)
                fields.append(["Content-Length", str(len(body) + 2)] if form == "dup-differ" else fields[-1][:] if form == "dup-same"
                              else ["Transfer-Encoding", "chunked"])
    else:
        body = chunked_body(b, body, "chunk" in odd, "chunkend" in odd, "chunks" in odd)
        fields.append(["Transfer-Encoding", "chunked"])
        if "te" in odd:
            form = rng.choice(["value", "value", "dup", "with-cl", "with-cl-short"])
            if form == "value":
                fields[-1][1] = b.pick("te", TE_VALUES)
            else:
                b.label("te", form)
                fields.append(["Transfer-Encoding", "chunked"] if form == "dup" else
                              ["Content-Length", str(len(body)) if form == "with-cl" else "3"])
    if "conn" in odd:
        fields.append(["Connection", b.pick("conn", [("close", "close"), ("keep", "keep-alive"), ("cl", "content-length"),
                                                     ("te", "transfer-encoding"), ("upgrade", "upgrade")])])
    if rng.random() < 0.5:
        rng.shuffle(fields)
    lines = [status] + [f"{k}: {v}" for k, v in fields]
    if "name" in odd:
        at = rng.randrange(1, len(lines))
        k, _, v = lines[at].partition(": ")
        form = rng.choice(["sp-colon", "nul", "high", "underscore", "lead-sp", "no-colon"])
        b.label("name", f"{form}:{k.lower()}")
        lines[at] = {"sp-colon": f"{k} : {v}", "nul": f"{k}\x00: {v}", "high": f"{k}\xe9: {v}",
                     "underscore": f"{k.replace('-', '_')}: {v}", "lead-sp": f" {k}: {v}", "no-colon": f"{k} {v}"}[form]
    if "fold" in odd:
        at = rng.randrange(1, len(lines))
        k, _, v = lines[at].partition(": ")
        form = rng.choice(["before", "after", "vtab", "ff"])
        b.label("fold", f"{form}:{k.lower()}")
        lines[at] = {"before": f"{k}:\r\n {v}", "after": f"{k}: {v}\r\n x", "vtab": f"{k}:\x0b{v}", "ff": f"{k}: {v}\x0c"}[form]
    ends = ["\r\n"] * (len(lines) + 1)
    if "eol" in odd:
        at = rng.randrange(len(ends))
        ends[at] = b.pick("eol", [("lf", "\n"), ("cr", "\r"), ("crcrlf", "\r\r\n"), ("sp", " \r\n")])
        b.labels[-1] += f"@{at}"
    pre = ""
    if "interim" in odd:
        pre = b.pick("interim", [("100", "HTTP/1.1 100 Continue\r\n\r\n"), ("103", "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"),
                                 ("100-cl", "HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\n"),
                                 ("100x3", "HTTP/1.1 100 Continue\r\n\r\n" * 3), ("100-lf", "HTTP/1.1 100 Continue\n\n")])
    head = "".join(ln + e for ln, e in zip(lines, ends[:-1])) + ends[-1]
    if head_request:
        b.label("method", "HEAD")
    return f"g{i:05d}-" + "+".join(b.labels), (pre + head + body).encode("latin-1")


def is_head(seed, i):
    return random.Random(seed * 7 + i).random() < 0.15


def pipelined(seed, i):
    """Whether caller A sends a second request (/aNNNNN) right behind its first."""
    return not is_head(seed, i) and random.Random(seed * 11 + i).random() < 0.5


def frame_all(data, head_request):
    """A strict caller's reading of `data`: [(status, body)] of the final responses, and the bytes left unframed
    (`head_request`: the first answers a HEAD)."""
    out, at = [], 0
    while at < len(data):
        end = data.find(b"\r\n\r\n", at)
        m = re.match(rb"HTTP/1\.[01] (\d{3}) [^\r\n]*\r\n", data[at:end + 2]) if end >= 0 else None
        if not m:
            return out, data[at:]
        status, head = int(m.group(1)), data[at:end + 4].lower()
        at = end + 4
        if 100 <= status < 200 and status != 101:
            continue
        cl = re.search(rb"\r\ncontent-length: *(\d+)\r\n", head)
        if (head_request and not out) or status in (204, 304) or status == 101:
            body = b""
        elif b"\r\ntransfer-encoding: chunked\r\n" in head:
            body = b""
            while True:
                m2 = re.match(rb"([0-9a-f]+)(;[^\r\n]*)?\r\n", data[at:])
                if not m2:
                    return out + [(status, body)], data[at:]
                n, at = int(m2.group(1), 16), at + m2.end()
                if n == 0:
                    t = data.find(b"\r\n\r\n", at - 2)
                    at = len(data) if t < 0 else t + 4
                    break
                body, at = body + data[at:at + n], at + n + 2
        elif cl:
            body, at = data[at:at + int(cl.group(1))], at + int(cl.group(1))
        else:
            body, at = data[at:], len(data)
        out.append((status, body))
    return out, b""


def in_pieces(seed, i):
    """Whether the origin writes case i's response in pieces (three times in ten)."""
    return random.Random(seed * 13 + i).random() < 0.3


def send_in_pieces(c, data, rng):
    """`data` in up to 12 pieces 2 ms apart: a response parser's every boundary."""
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randrange(2, 12))))
    for at, end in zip([0] + cuts, cuts + [len(data)]):
        c.sendall(data[at:end])
        time.sleep(0.002)


def origin(seed):
    """A RawOrigin that answers /gNNNNN with case i's response and POISON, anything else 200 with its `X-Case`."""
    def serve(conn):
        c, buf = conn.sock, b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    got = c.recv(65536)
                    if not got:
                        return
                    buf += got
                head, _, buf = buf.partition(b"\r\n\r\n")
                m = re.search(rb"/([gab])(\d{5})", head)
                if m and m.group(1) == b"g":
                    i = int(m.group(2))
                    if in_pieces(seed, i):
                        send_in_pieces(c, make(seed, i, False)[1] + POISON, random.Random(seed * 17 + i))
                    else:
                        c.sendall(make(seed, i, False)[1] + POISON)
                else:
                    tag = m.group(0)[1:] if m else b"-"
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Case: " + tag + b"\r\n\r\nok")
        except OSError:
            return
    return RawOrigin(serve, conn_timeout=5)


def run_case(seed, i, proxies):
    """A's and B's exchanges through each proxy at once: {proxy: (A's data, A's end, B's data)}."""
    out = {}

    def one(pname):
        port, oport = proxies[pname]
        t = f"http://127.0.0.1:{oport}"
        method = "HEAD" if is_head(seed, i) else "GET"
        second = f"GET {t}/a{i:05d} HTTP/1.1\r\nHost: 127.0.0.1:{oport}\r\n\r\n" if pipelined(seed, i) else ""
        _, how, a = sd.exchange(port, f"{method} {t}/g{i:05d} HTTP/1.1\r\nHost: 127.0.0.1:{oport}\r\n\r\n{second}".encode())
        _, _, b = sd.exchange(port, f"GET {t}/b{i:05d} HTTP/1.1\r\nHost: 127.0.0.1:{oport}\r\n\r\n".encode())
        out[pname] = (a, how, b)

    threads = [threading.Thread(target=one, args=(p,)) for p in proxies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def findings(seed, i, res):
    a, _, b = res["berth"]
    found = []
    frames, _ = frame_all(a, is_head(seed, i))
    if len(frames) > 1 + pipelined(seed, i):
        found.append(f"A's bytes frame as {len(frames)} final responses: {[s for s, _ in frames]}")
    # POISON in a later piece than the answer's end comes after berth sent the second request: that request's answer
    # for all a proxy can tell (HAProxy and nginx relay it too), and the same caller's. Whole, it must never pass.
    late = in_pieces(seed, i) and pipelined(seed, i)
    if len(frames) == 2 and not late and (frames[1] != (200, b"ok") or f"X-Case: a{i:05d}".encode() not in a):
        found.append(f"A's second answer is {frames[1][0]} {frames[1][1][:20]!r}, not its own")
    if any(body == b"POISONED" for _, body in frames) and not late:
        found.append("a response framed as POISONED reached A")
    bframes, left = frame_all(b, False)
    if bframes != [(200, b"ok")] or f"X-Case: b{i:05d}".encode() not in b or left:
        found.append(f"B got {b[:160]!r}")
    return found


def run(lanes, seed, indices):
    out, queue, lock = {}, list(indices), threading.Lock()

    def lane(k):
        while True:
            with lock:
                if not queue:
                    return
                i = queue.pop(0)
            out[i] = run_case(seed, i, lanes[k])

    threads = [threading.Thread(target=lane, args=(k,)) for k in range(len(lanes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--lanes", type=int, default=8)
    ap.add_argument("--only", default=None)
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--berth-only", action="store_true")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10 ** 6)
    indices = [int(args.only[1:])] if args.only else list(range(args.cases))
    print(f"seed {seed}: {len(indices)} generated response case(s), {args.lanes} lanes", flush=True)
    sd.IDLE_S = 0.3
    work, started, t0 = tempfile.mkdtemp(prefix="berth-respgen-"), [], time.monotonic()
    names = ("berth",) if args.berth_only else ("berth", "haproxy", "nginx")
    origins = [{p: origin(seed) for p in names} for _ in range(args.lanes)]
    try:
        berth = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                       "--log-level", "error"], log_path=os.path.join(work, "berth.stderr"))
        started.append(berth)
        lanes = [{"berth": (berth.proxy[1], o["berth"].port)} for o in origins]
        for pname, start in (("haproxy", gen_diff.start_haproxy), ("nginx", gen_diff.start_nginx)):
            if pname in names:
                p, fronts = start(work, [o[pname].port for o in origins])
                started.append(p)
                for lane, front, o in zip(lanes, fronts, origins):
                    lane[pname] = (front, o[pname].port)
        results = run(lanes, seed, indices)
        candidates = [i for i in indices if findings(seed, i, results[i])]
        sd.IDLE_S = 1.0
        again = run(lanes[:1], seed, candidates)
        bad = 0
        for i in indices:
            found = findings(seed, i, again[i]) if i in again else []
            bad += bool(found)
            if found or args.all:
                name, raw = make(seed, i, is_head(seed, i))
                print(f"{'FINDING ' if found else ''}{name}\n    {raw[:200]!r}")
                for p, (a, how, b) in (again[i] if i in again else results[i]).items():
                    fa, left = frame_all(a, is_head(seed, i))
                    print(f"    {p:8} A {[(s, body[:12]) for s, body in fa]} {how} left={left[:30]!r}  B {frame_all(b, False)[0]}")
                for f in found:
                    print(f"    !! {f}")
        print(f"seed {seed}: {len(indices)} response cases in {time.monotonic() - t0:.0f} s, {bad} with findings for berth"
              f" ({len(candidates) - bad} candidate(s) that did not recur)")
        return 1 if bad else 0
    finally:
        sd.stop_all(started)
        for o in origins:
            for r in o.values():
                r.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
