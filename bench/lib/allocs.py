"""Per-request profile of berth: heap allocations (valgrind memcheck), instructions and top functions
(valgrind callgrind), and system calls (strace -c -f). Exact request counts from a small asyncio client;
all traffic on 127.0.0.1 to an nginx upstream returning a 2-byte body.

- allocations/request = (allocs of a run with WARM+N requests - allocs of a run with WARM requests) / N,
  from memcheck's "total heap usage" line, so start-up and shutdown cancel out;
- instructions/request = Ir of a callgrind dump taken over N requests after WARM requests (counters zeroed
  with callgrind_control -z), and callgrind_annotate of that dump gives the top functions;
- syscalls/request = strace -c -f attached to a running berth (not under valgrind) for N requests.

Started by bench/allocs; see docs/performance.md.
"""

import argparse
import asyncio
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import procs
import tls_targets
from procs import log


BODY = "2"  # --body: the upstream path /b2, /b4k or /b256k
REALISTIC = False  # --realistic: what curl sends, absolute-form with its three fields, under --profile cross-region


def request_bytes(up_port):
    """The request every worker sends: origin-form with only Host (the figure kept since 2026-11), or with
    --realistic what `curl -x berth http://127.0.0.1:PORT/b2` sends (absolute-form, Host, User-Agent, Accept)."""
    if REALISTIC:
        return (f"GET http://127.0.0.1:{up_port}/b{BODY} HTTP/1.1\r\nHost: 127.0.0.1:{up_port}\r\n"
                f"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n").encode()
    return f"GET /b{BODY} HTTP/1.1\r\nHost: 127.0.0.1:{up_port}\r\n\r\n".encode()


async def _worker(port, up_port, count, timeout):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    req = request_bytes(up_port)
    for _ in range(count):
        writer.write(req)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        if not head.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(f"unexpected response {head[:200]!r}")
        m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        await asyncio.wait_for(reader.readexactly(int(m.group(1)) if m else 0), timeout)
    writer.close()
    await writer.wait_closed()


def send(port, up_port, n, connections, timeout=60):
    """Exactly n keep-alive requests over `connections` connections (origin-form, Host = upstream)."""
    per = [n // connections + (1 if i < n % connections else 0) for i in range(connections)]

    async def go():
        await asyncio.wait_for(asyncio.gather(*(_worker(port, up_port, c, timeout) for c in per if c)),
                               timeout * 10)
    t0 = time.monotonic()
    asyncio.run(go())
    return time.monotonic() - t0


VALGRIND_BIN = None  # BERTH_BIN without DWARF: valgrind 3.19 cannot read the DWARF 5 that Swift's clang emits


def valgrind_bin(work):
    global VALGRIND_BIN
    if VALGRIND_BIN is None:
        VALGRIND_BIN = os.path.join(work, "berth-nodebug")
        subprocess.run(["objcopy", "--strip-debug", os.environ["BERTH_BIN"], VALGRIND_BIN], check=True)
    return VALGRIND_BIN


def demangler():
    for c in ("swift-demangle", "/opt/swift/usr/bin/swift-demangle"):
        if shutil.which(c):
            return [shutil.which(c), "--simplified"]
    if shutil.which("swift"):
        return ["swift", "demangle", "--simplified"]
    return None


def demangle(text):
    d = demangler()
    if not d:
        return text
    try:
        return subprocess.run(d, input=text, capture_output=True, text=True, timeout=120).stdout or text
    except Exception:
        return text


EXTRA_ARGS = []  # --tls: the config file that makes the upstream's ssl port a TLS destination


def berth_flags():
    profile = "cross-region" if REALISTIC else "same-region-failover"
    return ["--profile", profile, "--listen", "127.0.0.1:0",
            "--admin", "127.0.0.1:0", "--workers", "1", "--log-level", "warning",
            # generous timeouts: valgrind makes berth 20-100x slower
            "--socket-timeout", "30s", "--connect-timeout", "30s", "--idle-timeout", "1h", *EXTRA_ARGS]


def start_berth(work, name, wrapper=()):
    b = procs.start_berth(berth_flags(), work, name, wrapper=wrapper, binary=valgrind_bin(work) if wrapper else None,
                          ready_timeout=120)
    return b.proc, b.proxy[1]


def memcheck_run(work, up_port, total, connections):
    logf = os.path.join(work, f"memcheck-{total}.log")
    p, port = start_berth(work, f"memcheck-{total}",
                          ["valgrind", "--tool=memcheck", "--leak-check=no", f"--log-file={logf}"])
    send(port, up_port, total, connections)
    procs.stop(p, signal.SIGTERM, timeout=120)
    text = open(logf).read()
    m = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees, ([\d,]+) bytes allocated", text)
    if not m:
        raise RuntimeError(f"no heap summary in {logf}")
    a, f, b = (int(x.replace(",", "")) for x in m.groups())
    errs = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    return {"requests": total, "allocs": a, "frees": f, "bytes": b,
            "memcheck_errors": int(errs.group(1)) if errs else None}


def dump_total(path):
    """The instruction count of one callgrind dump (its `totals:` line, else its `summary:` line)."""
    found = None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
            if line.startswith("summary:"):
                found = int(line.split()[1])
    if found is None:
        raise RuntimeError(f"no totals in {path}")
    return found


def callgrind_whole(work, total, up_port, connections):
    """Instructions of a whole berth run (start-up, `total` requests, shutdown) under callgrind."""
    out = os.path.join(work, f"callgrind-whole-{total}.out")
    p, port = start_berth(work, f"callgrind-{total}", ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                                       "--dump-instr=no"])
    send(port, up_port, total, connections)
    procs.stop(p, signal.SIGTERM, timeout=120)
    return dump_total(out)


def callgrind_run(work, up_port, warm, n, connections, top):
    out = os.path.join(work, "callgrind.out")
    p, port = start_berth(work, "callgrind", ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                              "--dump-instr=no", "--collect-atstart=yes"])
    send(port, up_port, warm, connections)
    # a dump (not just a zero) after the warm-up, so that the dumps of this run add up to the whole program's count
    subprocess.run(["callgrind_control", "-d", "warm", str(p.pid)], capture_output=True, timeout=60, check=True)
    send(port, up_port, n, connections)
    subprocess.run(["callgrind_control", "-d", "steady", str(p.pid)], capture_output=True, timeout=60, check=True)
    procs.stop(p, signal.SIGTERM, timeout=120)
    dumps = [os.path.join(work, f) for f in os.listdir(work) if f.startswith("callgrind.out")]
    dump = next(f for f in dumps if "Trigger: dump steady" in open(f, errors="replace").read(4096))
    whole = sum(dump_total(f) for f in dumps)
    ann = demangle(subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", dump],
                                  capture_output=True, text=True, timeout=300).stdout)
    incl = demangle(subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", dump],
                                   capture_output=True, text=True, timeout=300).stdout)
    total = int(re.search(r"^\s*([\d,]+).*PROGRAM TOTALS", ann, re.M).group(1).replace(",", ""))

    def rows(text, drop_frames):
        res = []
        for line in text.splitlines():
            m = re.match(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*)$", line) or \
                re.match(r"^\s*([\d,]+)\s+(?:\(\s*([\d.]+)%\)\s+)?(\S.*)$", line)
            if not m or "PROGRAM TOTALS" in line:
                continue
            ir = int(m.group(1).replace(",", ""))
            name = m.group(3).strip()
            if drop_frames and ir >= 0.99 * total:
                # the event loop's own frames (main, event_base_dispatch, BerthServer.run): on the stack when
                # the counters were zeroed, callgrind_annotate shows them with the whole total as "self" cost
                continue
            res.append({"ir": ir, "pct": round(100.0 * ir / total, 2), "ir_per_request": round(ir / n, 1),
                        "function": name})
        return res[:top]
    shutil.copy(dump, os.path.join(work, "callgrind.steady"))
    tree = demangle(subprocess.run(["callgrind_annotate", "--tree=caller", "--inclusive=yes", "--threshold=99", dump],
                                   capture_output=True, text=True, timeout=300).stdout)
    with open(os.path.join(work, "callgrind_callers.txt"), "w") as f:
        f.write(tree)
    with open(os.path.join(work, "callgrind_annotate.txt"), "w") as f:
        f.write(ann)
    # the issue-22 figure: (a run of warm+n requests - a run of warm requests) / n, start-up and shutdown cancel
    low = callgrind_whole(work, warm, up_port, connections)
    return {"warm_requests": warm, "requests": n, "instructions": total,
            "instructions_per_request": round(total / n, 1),
            "whole_runs": {str(warm): low, str(warm + n): whole},
            "instructions_per_request_by_difference": round((whole - low) / n, 1),
            "top_self": rows(ann, True), "top_inclusive": rows(incl, True)}, ann


def strace_run(work, up_port, warm, n, connections):
    p, port = start_berth(work, f"strace-c{connections}")
    send(port, up_port, warm, connections)
    outf = os.path.join(work, f"strace-c{connections}.txt")
    s = procs.start(["strace", "-c", "-f", "-p", str(p.pid), "-o", outf],
                    stderr=open(os.path.join(work, "strace.stderr"), "w"))
    time.sleep(1.0)
    send(port, up_port, n, connections)
    time.sleep(0.2)
    procs.stop(s, signal.SIGINT, timeout=30)
    procs.stop(p)
    calls, total = {}, None
    for line in open(outf):
        parts = line.split()
        if len(parts) >= 5 and parts[0].replace(".", "").isdigit() and not line.startswith("-"):
            name = parts[-1]
            ncalls = int(parts[3])
            if name == "total":
                total = ncalls
            else:
                calls[name] = ncalls
    if total is None:
        total = sum(calls.values())
    return {"connections": connections, "requests": n, "syscalls": total,
            "syscalls_per_request": round(total / n, 3),
            "per_request": {k: round(v / n, 3) for k, v in sorted(calls.items(), key=lambda kv: -kv[1])}}


def main(argv):
    ap = argparse.ArgumentParser(prog="bench/allocs", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warm", type=int, default=1000, help="requests before the measured ones (default 1000)")
    ap.add_argument("--n", type=int, default=10000, help="measured requests (default 10000)")
    ap.add_argument("--connections", type=int, default=8, help="client connections (default 8)")
    ap.add_argument("--top", type=int, default=25, help="functions to list from callgrind_annotate")
    ap.add_argument("--only", default="memcheck,callgrind,strace")
    ap.add_argument("--quick", action="store_true", help="smoke: warm 100, n 1000")
    ap.add_argument("--body", choices=["2", "4k", "256k"], default="2",
                    help="response body size (the upstream's /b2, /b4k or /b256k; default 2 bytes)")
    ap.add_argument("--realistic", action="store_true",
                    help="what curl sends (absolute-form, Host, User-Agent, Accept) over one connection, berth "
                         "--profile cross-region, 2,000 warm-up + 6,000 measured requests; writes allocs-realistic.json")
    ap.add_argument("--out", default=os.path.join(procs.BENCH_DIR, "results"))
    ap.add_argument("--tls", action="store_true",
                    help="through a pooled TLS upstream (the upstream nginx's ssl port, tls_targets.py); writes "
                         "allocs-tls.json and callgrind_annotate-tls.txt")
    args = ap.parse_args(argv)
    global BODY, REALISTIC
    BODY = args.body
    REALISTIC = args.realistic
    if REALISTIC:
        args.connections = 1
        args.warm, args.n = 2000, 6000
    if args.quick:
        args.warm, args.n = 100, 1000
    only = set(args.only.split(","))
    work = procs.tmpdir("berth-allocs-")
    result = {"machine": procs.machine(),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "berth_bin": os.environ["BERTH_BIN"],
              "settings": {"warm": args.warm, "n": args.n, "connections": args.connections, "body": BODY}}
    ann = ""
    try:
        up_port = procs.free_port()
        if args.tls:
            pki = tls_targets.prepare(work)
            tls_port = procs.free_port()
            procs.start_upstream_nginx(work, up_port, tls=(tls_port, pki["cert"], pki["key"]))
            conf = os.path.join(work, "berth-tls.yaml")
            with open(conf, "w") as f:
                f.write(f"destinations:\n  - match: \"127.0.0.1:{tls_port}\"\n"
                        f"    tls: {{ca-file: \"{pki['ca']}\", server-name: localhost}}\n")
            EXTRA_ARGS.extend(["--config", conf])
            up_port = tls_port  # the Host every request names
        else:
            procs.start_upstream_nginx(work, up_port)
        if "strace" in only:
            result["strace"] = [strace_run(work, up_port, args.warm, args.n, c)
                                for c in sorted({1, args.connections, 64})]
            for r in result["strace"]:
                log(f"strace c={r['connections']}: {r['syscalls_per_request']} syscalls/request "
                    f"{dict(list(r['per_request'].items())[:8])}")
        if "memcheck" in only:
            a = memcheck_run(work, up_port, args.warm, args.connections)
            b = memcheck_run(work, up_port, args.warm + args.n, args.connections)
            result["memcheck"] = {"runs": [a, b],
                                  "allocs_per_request": round((b["allocs"] - a["allocs"]) / args.n, 3),
                                  "bytes_per_request": round((b["bytes"] - a["bytes"]) / args.n, 1)}
            log(f"memcheck: {result['memcheck']['allocs_per_request']} allocs/request, "
                f"{result['memcheck']['bytes_per_request']} bytes/request")
        if "callgrind" in only:
            result["callgrind"], ann = callgrind_run(work, up_port, args.warm, args.n, args.connections, args.top)
            log(f"callgrind: {result['callgrind']['instructions_per_request']} instructions/request steady, "
                f"{result['callgrind']['instructions_per_request_by_difference']} by difference of two runs")
    except BaseException:
        procs.stop_all()
        log(f"failed; logs kept in {work}")
        raise
    procs.stop_all()
    os.makedirs(args.out, exist_ok=True)
    suffix = ("-tls" if args.tls else "") + ("-realistic" if REALISTIC else "")
    result["settings"]["tls"] = args.tls
    result["settings"]["realistic"] = REALISTIC
    result["settings"]["request"] = request_bytes(0).decode().replace(":0", ":UPSTREAM")
    path = os.path.join(args.out, f"allocs{suffix}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    if ann:
        with open(os.path.join(args.out, f"callgrind_annotate{suffix}.txt"), "w") as f:
            f.write(ann)
        shutil.copy(os.path.join(work, "callgrind_callers.txt"), os.path.join(args.out, f"callgrind_callers{suffix}.txt"))
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    print(f"wrote {path}" + (", callgrind_annotate.txt and callgrind_callers.txt" if ann else "") + f"; raw files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
