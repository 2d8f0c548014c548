"""Generated smuggling differential: smuggle_gen's seeded cases through berth, HAProxy 2.6 and nginx 1.22, in lanes.

    fuzz/differential/gen_diff.py [--cases 3000] [--seed N] [--lanes 8] [--only gNNNNN] [--out FILE] [--berth-only]
                                  [--split N] [--all]

Each lane has its own three strict origins (and HAProxy frontend, nginx server), so lanes never share an upstream
connection and a lane's origin log is its cases' alone. A case's findings are smuggle_diff's (strict origin refused,
SMUGGLED seen, a faulty head, more requests than both others) and more for berth: the origin framed a number
of requests unlike the number of answers the caller got (berth and origin disagree where a message ends), a request
naming another case reached the origin, an answer naming another case (`X-Case`) reached the caller, a bystander
(another caller of the same origin through berth, during the case) got or sent anything but its own, or berth
forwarded a request (target and body) that a strict parse of the caller's own bytes does not frame. Every
candidate is run again alone with longer waits and kept only if it recurs. The seed is printed (random when not
given); exit status 1 when a finding recurs.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import smuggle_diff as sd
import smuggle_gen
from berthkit import free_port
from berthkit.process import Berth
import strict_origin
from strict_origin import StrictOrigin

PROXIES = ("berth", "haproxy", "nginx")
X_CASE = re.compile(rb"\r\nX-Case: ([cgy]\d+)\r\n")
# Generated labels whose "berth forwarded more than both others" is a documented choice (docs/reliability.md).
CHOSEN = {
    "host=empty": "RFC 9112 3.2.2: the absolute target's authority wins and Host is rewritten from it",
    "host=trail-dot": "the same (HAProxy refuses a Host unlike the target; nginx refuses a second Expect)",
    "host=evil": "the same", "host=port": "the same", "host=upper": "the same",
    "target=pct-host": "a bad host is answered 400 with the connection kept (the request was read whole)",
    "target=host-dot": "HAProxy refuses a Host unlike the target's authority; berth routes by the target",
    "target=ipv6": "the same", "target=ipv6-mapped": "the same",
    "expect=twice": "nginx refuses a second Expect field; HAProxy and berth forward both",
    "cl=dup-same": "one Content-Length: n forwarded (item 12, RFC 9112 6.3); nginx 400, HAProxy 413 on HTTP/1.0",
}
# What a strict origin logs when berth opens TLS to it for an `https://` target (README: berth originates TLS).
TLS_HELLO = re.compile(r"bare LF or CR in b.\\x16\\x03")


def start_haproxy(work, ports):
    """One HAProxy with a frontend and backend per lane; the frontends' ports, lane by lane."""
    fronts = [free_port() for _ in ports]
    cfg = os.path.join(work, "h.cfg")
    with open(cfg, "w") as f:
        f.write("defaults\n  mode http\n  timeout connect 1s\n  timeout client 3s\n  timeout server 3s\n")
        for i, (front, port) in enumerate(zip(fronts, ports)):
            f.write(f"frontend fe{i}\n  bind 127.0.0.1:{front}\n  default_backend be{i}\n"
                    f"backend be{i}\n  server s1 127.0.0.1:{port}\n")
    p = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for front in fronts:
        sd.wait_port(front)
    return p, fronts


def start_nginx(work, ports):
    """One nginx with a server and upstream per lane; the servers' ports, lane by lane."""
    fronts = [free_port() for _ in ports]
    conf = os.path.join(work, "n.conf")
    temp = "".join(f" {k}_temp_path {work}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    with open(conf, "w") as f:
        f.write(f"daemon off; pid {work}/n.pid; error_log {work}/n.err warn; events {{}}\nhttp {{ access_log off;{temp}\n")
        for i, (front, port) in enumerate(zip(fronts, ports)):
            f.write(f"  upstream up{i} {{ server 127.0.0.1:{port}; keepalive 8; }}\n"
                    f"  server {{ listen 127.0.0.1:{front}; location / {{ proxy_pass http://up{i};"
                    f" proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_read_timeout 3s; }} }}\n")
        f.write("}\n")
    p = subprocess.Popen(["nginx", "-c", conf, "-p", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for front in fronts:
        sd.wait_port(front)
    return p, fronts


class _Bytes:
    """A socket's stand-in that gives a strict_origin.Reader one byte string, then EOF."""

    def __init__(self, data):
        self.data = data

    def recv(self, _n):
        data, self.data = self.data, b""
        return data


def strict_requests(raw):
    """The (target, body) of the requests a strict RFC 9112 parser frames in the caller's bytes, up to its first refusal; it
    allows what RFC 9112 lets a server allow (empty lines before a request line, 2.2; a CL list of one value, 6.3)."""
    r, out = strict_origin.Reader(_Bytes(raw)), []
    try:
        r.more()
        while True:
            r.buf = r.buf.lstrip(b"\r\n")
            req = strict_origin.read_request(r, same_cl_list=True)
            out.append((req["target"], req["body"]))
    except (strict_origin.Strict, EOFError):
        return out


def origin_path(target):
    return re.sub(r"^[A-Za-z]+://[^/?#]*", "", target) or "/"


def extra_findings(name, res, by=None):
    """berth's framing and cross-case faults in one case's results (smuggle_diff.findings has the rest)."""
    tag = name.split("-", 1)[0]
    b, found = res["berth"], []
    framed = [e for e in b["entries"] if "req" in e]
    answers = b["statuses"].count(200)
    if len(framed) != answers:
        found.append(f"the origin framed {len(framed)} request(s), the caller got {answers} answer(s)")
    for e in framed:
        target = e["req"]["target"]
        other = re.search(r"/([cg]\d{3,5})/", target)
        if other and other.group(1) != tag:
            found.append(f"a request of {other.group(1)} reached the origin in {tag}'s exchange: {target[:80]}")
    for case in X_CASE.findall(b["data"]):
        if case.decode() != tag:
            found.append(f"an answer to {case.decode()} reached {tag}'s caller")
    want = "y" + tag[1:]
    if by is not None:
        got = [e.get("req", {}).get("target", "")[-20:] + " " + repr(e.get("req", {}).get("body", e.get("error"))) for e in by["entries"]]
        if [c.decode() for c in X_CASE.findall(by["data"])] != [want] or sd.STATUS.findall(by["data"]) != [b"200"] \
                or len(by["entries"]) != 1 or by["entries"][0].get("req", {}).get("body") != b"":
            found.append(f"the bystander got {by['data'][:100]!r}; its origin saw {got}")
    return found


def case_findings(name, raw, res):
    """All of berth's findings in one case, less those its labels' documented choices explain."""
    by = res.get("bystander")
    res = {p: r for p, r in res.items() if p != "bystander"}
    b = res["berth"]
    # Left out: the TLS hello of an `https://` target, and a body berth streamed and cut where it found it broken (a
    # 400 to the caller, a close inside the request to the origin: docs/reliability.md, "Smuggling differential").
    cut = b["statuses"] and b["statuses"][-1] >= 400
    keep = [k for k, e in enumerate(b["entries"]) if not TLS_HELLO.match(e.get("error", ""))
            and not (cut and e.get("error", "").startswith("EOF inside"))]
    res = {**res, "berth": {**b, "entries": [b["entries"][k] for k in keep], "origin": [b["origin"][k] for k in keep]}}
    found = sd.findings(name, raw, res)
    strict = strict_requests(raw)
    if any(t.endswith("/SMUGGLED") for t, _ in strict):  # the caller's bytes hold it as a request: no smuggling
        found = [f for f in found if not f.startswith("origin saw a smuggled")]
    framed = [e["req"] for e in res["berth"]["entries"] if "req" in e]
    if len(framed) > len(strict):
        found.append(f"berth forwarded {len(framed)} request(s), a strict parse of the caller's bytes frames {len(strict)}")
    # In order, each forwarded request must be one the strict parse framed (berth answers some itself: skipped).
    left = [(origin_path(t), body) for t, body in strict]
    for req in framed:
        want = (origin_path(req["target"]), req["body"])
        while left and left[0] != want:
            left.pop(0)
        if not left:
            found.append(f"forwarded {want[0][:60]} {want[1][:30]!r}, which a strict parse does not frame so")
            break
        left.pop(0)
    if any(label in name.split("+") for label in CHOSEN):
        found = [f for f in found if not f.startswith("berth forwarded more")]
    return found + extra_findings(name, res, by)


def run(lanes, seed, indices, lists_for):
    """Runs case `indices` over `lanes` (one thread per lane, cases in turn); {index: (name, raw, results)}."""
    out, queue, lock = {}, list(indices), threading.Lock()

    def lane(k):
        proxies, lists = lanes[k], lists_for[k]
        while True:
            with lock:
                if not queue:
                    return
                i = queue.pop(0)
            raws = {p: lists[p](i) for p in proxies}
            name, raw = raws["berth"]
            # Every other case with an Expect waits 0.15 s after its head, as a caller waiting for 100 Continue.
            pause = 0.15 if "+expect=" in name and i % 2 == 0 else 0.0
            # A bystander: another caller of the same origin through berth, while the case runs.
            port, berth_origin = proxies["berth"]
            oport, by, m0 = berth_origin.port, {}, berth_origin.mark()
            bystander = threading.Thread(target=lambda: by.update(data=sd.exchange(port, (
                f"GET http://127.0.0.1:{oport}/y{i:05d}/by HTTP/1.1\r\nHost: 127.0.0.1:{oport}\r\n\r\n").encode())[2]))
            bystander.start()
            res = sd.run_case(name, {p: r[1] for p, r in raws.items()}, proxies, pause)
            bystander.join()
            b = res["berth"]
            mine = [k for k, e in enumerate(b["entries"]) if f"/y{i:05d}/" not in e.get("req", {}).get("target", "")]
            res["bystander"] = {"data": by["data"], "entries": [e for e in berth_origin.since(m0) if f"/y{i:05d}/" in
                                                                e.get("req", {}).get("target", "")]}
            res["berth"] = {**b, "entries": [b["entries"][k] for k in mine], "origin": [b["origin"][k] for k in mine]}
            out[i] = (name, raw, res)

    threads = [threading.Thread(target=lane, args=(k,)) for k in range(len(lanes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def refused(res):
    return not any("req" in e for e in res["entries"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--lanes", type=int, default=8)
    ap.add_argument("--only", default=None, help="one case, gNNNNN")
    ap.add_argument("--out", default=None)
    ap.add_argument("--berth-only", action="store_true")
    ap.add_argument("--all", action="store_true", help="print every case")
    ap.add_argument("--split", type=int, default=0, help="send each case in this many pieces, 5 ms apart")
    args = ap.parse_args()
    sd.SPLIT = args.split
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10 ** 6)
    indices = [int(args.only[1:])] if args.only else list(range(args.cases))
    print(f"seed {seed}: {len(indices)} generated case(s), {args.lanes} lanes", flush=True)
    sd.IDLE_S, sd.SETTLE_S = 0.3, 0.2
    work, started, t0 = tempfile.mkdtemp(prefix="berth-gendiff-"), [], time.monotonic()
    try:
        origins = [{p: StrictOrigin() for p in PROXIES} for _ in range(args.lanes)]
        berth = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                       "--log-level", "error"], log_path=os.path.join(work, "berth.stderr"))
        started.append(berth)
        lanes = [{"berth": (berth.proxy[1], o["berth"])} for o in origins]
        if not args.berth_only:
            for pname, start in (("haproxy", start_haproxy), ("nginx", start_nginx)):
                p, fronts = start(work, [o[pname].port for o in origins])
                started.append(p)
                for lane, front, o in zip(lanes, fronts, origins):
                    lane[pname] = (front, o[pname])

        def maker(port):
            return lambda i: smuggle_gen.make(seed, i, f"http://127.0.0.1:{port}", f"127.0.0.1:{port}")

        lists_for = [{p: maker(o[p].port) for p in lane} for lane, o in zip(lanes, origins)]
        results = run(lanes, seed, indices, lists_for)
        candidates = [i for i in indices if case_findings(*results[i])]
        # Again, alone and with longer waits: a late packet on a loaded machine must not pass for a finding.
        sd.IDLE_S, sd.SETTLE_S = 1.0, 0.6
        again = run(lanes[:1], seed, candidates, lists_for[:1])
        bad, flaky = 0, 0
        counts = {p: [0, 0] for p in lanes[0]}
        report = []
        for i in indices:
            name, raw, res = results[i]
            res = {p: r for p, r in res.items() if p != "bystander"}
            for p, r in res.items():
                counts[p][refused(r)] += 1
            found = case_findings(*again[i]) if i in again else []
            flaky += i in again and not found
            bad += bool(found)
            if found or args.all:
                print(f"{'FINDING ' if found else ''}{name}\n    {raw[:240]!r}")
                for p, r in (again[i][2] if i in again else res).items():
                    if p != "bystander":
                        print(f"    {p:8} {r['statuses']} {r['end']:5} {r['origin']}")
                for f in found:
                    print(f"    !! {f}")
            report.append({"case": name, "raw": raw.decode("latin-1"), "findings": found,
                           **{p: {k: v for k, v in r.items() if k not in ("entries", "data")} for p, r in res.items()}})
        print(" ".join(f"{p}: {c[0]} forwarded, {c[1]} refused;" for p, c in counts.items()))
        print(f"seed {seed}: {len(indices)} cases in {time.monotonic() - t0:.0f} s, {bad} with findings for berth"
              f" ({flaky} candidate(s) that did not recur)")
        if args.out:
            with open(args.out, "w") as f:
                json.dump(report, f, indent=1, default=repr)
        return 1 if bad else 0
    finally:
        sd.stop_all(started)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
