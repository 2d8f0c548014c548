"""Differential smuggling run: each request byte string through berth, HAProxy 2.6 and nginx 1.22 to strict origins.

    fuzz/differential/run.sh [--mutations 60] [--seed 1] [--only NAME] [--out FILE] [--all] [--berth-only] [--split N]

Prints the cases where berth forwarded what a strict parser refuses or frames otherwise (SMUGGLED seen, an origin
parse error, a request count or body unlike both other proxies'), and any fault in the heads berth writes. About
160 s for the default 290 cases (the three proxies run each case at once). Exit status 1 when berth has a finding.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import smuggle_cases
from berthkit import free_port
from berthkit.process import Berth
from head_checks import check_head
from strict_origin import StrictOrigin

IDLE_S, TOTAL_S, SETTLE_S = 0.4, 3.0, 0.25
# Cases where berth forwards what both others refuse, on purpose (docs/reliability.md, "Smuggling differential").
CHOSEN = {
    "long-value-64k": "berth's head limit is 64 KiB (HAProxy's buffer 16 KiB, nginx's large header buffer 8 KiB)",
    "host-empty": "RFC 9112 3.2.2: the absolute target's authority wins and Host is rewritten from it",
    "absolute-percent-host": "a bad host is answered 400 with the connection kept (the request was read whole)",
    "g3-http10-cl-dup-same": "one Content-Length: 5 (item 12, RFC 9112 6.3); HAProxy answers HTTP/1.0 so 413",
}
STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def stop_all(started):
    """Stops what a run started: berth by its own stop, HAProxy and nginx by SIGTERM and a bounded wait."""
    for p in started:
        if isinstance(p, Berth):
            p.stop()
        else:
            p.terminate()
            p.wait(timeout=10)


def start_haproxy(work, origin_port):
    port = free_port()
    cfg = os.path.join(work, "h.cfg")
    with open(cfg, "w") as f:
        f.write("defaults\n  mode http\n  timeout connect 1s\n  timeout client 3s\n  timeout server 3s\n"
                f"frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n"
                f"backend be\n  server s1 127.0.0.1:{origin_port}\n")
    p = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return p, port


def start_nginx(work, origin_port):
    port = free_port()
    conf = os.path.join(work, "n.conf")
    temp = "".join(f" {k}_temp_path {work}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    with open(conf, "w") as f:
        f.write(f"daemon off; pid {work}/n.pid; error_log {work}/n.err warn; events {{}}\n"
                f"http {{ access_log off;{temp}\n"
                f"  upstream up {{ server 127.0.0.1:{origin_port}; keepalive 8; }}\n"
                f"  server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://up;"
                f" proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_read_timeout 3s; }} }} }}\n")
    p = subprocess.Popen(["nginx", "-c", conf, "-p", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return p, port


SPLIT = 0


def exchange(port, raw, pause=0.0):
    """Sends `raw` on a fresh connection (in up to SPLIT pieces 5 ms apart when SPLIT is set; `pause` seconds after
    the first head, as a caller waiting for its 100 Continue); the statuses read back, how the connection ended and
    the bytes read."""
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data, how = b"", "idle"
    step = max(1, -(-len(raw) // SPLIT)) if SPLIT else len(raw)
    try:
        head_end = raw.find(b"\r\n\r\n") + 4
        if pause and head_end > 3:
            s.sendall(raw[:head_end])
            time.sleep(pause)
            raw = raw[head_end:]
        for at in range(0, len(raw), step):
            s.sendall(raw[at:at + step])
            if SPLIT:
                time.sleep(0.005)
    except OSError:
        how = "send-failed"
    deadline = time.monotonic() + TOTAL_S
    while True:
        s.settimeout(max(0.05, min(IDLE_S, deadline - time.monotonic())))
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            how = "reset" if how != "send-failed" else "send-failed+reset"
            break
        except socket.timeout:
            break
        if not chunk:
            how = "fin" if how != "send-failed" else "send-failed+fin"
            break
        data += chunk
        if time.monotonic() > deadline:
            break
    s.close()
    return [int(x) for x in STATUS.findall(data)], how, data


def describe(entry):
    """One origin log entry as a comparable string: method, path (authority and case prefix dropped), framing, body."""
    if "error" in entry:
        return f"REFUSED({entry['error']})"
    r = entry["req"]
    path = re.sub(r"^https?://[^/?]*", "", r["target"])
    path = re.sub(r"^/c\d{3}", "", path)
    return f"{r['method']} {path} {r['framing']} {r['body'][:24]!r}"


def run_case(name, raw_by_proxy, proxies, pause=0.0):
    out, threads = {}, []

    def one(pname):
        port, origin = proxies[pname]
        mark = origin.mark()
        statuses, how, data = exchange(port, raw_by_proxy[pname], pause)
        time.sleep(SETTLE_S)
        entries = origin.since(mark)
        out[pname] = {"statuses": statuses, "end": how, "origin": [describe(e) for e in entries],
                      "entries": entries, "data": data}

    for pname in proxies:
        t = threading.Thread(target=one, args=(pname,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return out


def findings(name, raw, res):
    """What is wrong with berth's forwarding of this case; empty when nothing."""
    b = res["berth"]
    found = []
    for e, d in zip(b["entries"], b["origin"]):
        if d.startswith("REFUSED(EOF") and b["statuses"] and b["statuses"][-1] >= 400:
            continue  # a body streamed in pieces, cut where berth found it broken: the origin sees a close, not a request
        if d.startswith("REFUSED"):
            found.append(f"strict origin refused what berth forwarded: {d} rest={e.get('rest')!r}")
        elif "SMUGGLED" in d.split(" ")[1] and not name.startswith("connect"):
            found.append(f"origin saw a smuggled request: {d}")
        else:
            found += [f"head: {p}" for p in check_head(raw, e["req"])]
    others = [res[p]["origin"] for p in res if p != "berth"]
    if name not in CHOSEN and others and all(o != b["origin"] for o in others) and len(set(map(tuple, others))) == 1:
        if len(b["origin"]) > len(others[0]):
            found.append(f"berth forwarded more than both others: {b['origin']} vs {others[0]}")
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mutations", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--all", action="store_true", help="print every case, not only findings and disagreements")
    ap.add_argument("--berth-only", action="store_true")
    ap.add_argument("--split", type=int, default=0, help="send each case in this many pieces, 5 ms apart")
    args = ap.parse_args()
    global SPLIT
    SPLIT = args.split
    work = tempfile.mkdtemp(prefix="berth-smuggle-")
    started, proxies = [], {}
    try:
        origins = {p: StrictOrigin() for p in ("berth", "haproxy", "nginx")}
        berth = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                       "--log-level", "error"], log_path=os.path.join(work, "berth.stderr"))
        started.append(berth)
        proxies["berth"] = (berth.proxy[1], origins["berth"])
        if not args.berth_only:
            for pname, start in (("haproxy", start_haproxy), ("nginx", start_nginx)):
                if shutil.which(pname) or os.path.exists(f"/usr/sbin/{pname}"):
                    p, port = start(work, origins[pname].port)
                    started.append(p)
                    proxies[pname] = (port, origins[pname])
        lists = {p: smuggle_cases.cases(f"http://127.0.0.1:{o.port}", f"127.0.0.1:{o.port}", args.mutations, args.seed)
                 for p, o in origins.items() if p in proxies}
        report, bad = [], 0
        for i, (name, raw) in enumerate(lists["berth"]):
            if args.only and args.only not in name:
                continue
            res = run_case(name, {p: lists[p][i][1] for p in proxies}, proxies)
            found = findings(name, raw, res)
            bad += bool(found)
            row = {"case": name, "raw": raw.decode("latin-1")[:300], "findings": found,
                   **{p: {k: v for k, v in r.items() if k not in ("entries", "data")} for p, r in res.items()}}
            report.append(row)
            # nginx sends every body with a Content-Length: framing words are not compared.
            differs = len({json.dumps([re.sub(r" (length|chunked) ", " ", d) for d in r["origin"]])
                           for r in res.values()}) > 1
            if found or args.all or differs:
                print(f"{'FINDING ' if found else ''}{name}")
                for p, r in res.items():
                    print(f"    {p:8} {r['statuses']} {r['end']:5} {r['origin']}")
                for f in found:
                    print(f"    !! {f}")
        print(f"{len(report)} cases, {bad} with findings for berth")
        if args.out:
            with open(args.out, "w") as f:
                json.dump(report, f, indent=1, default=repr)
        return 1 if bad else 0
    finally:
        stop_all(started)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
