"""Side-by-side throughput / latency / CPU-per-request benchmark: direct, berth, nginx, HAProxy.

Started by bench/run; see docs/performance.md. Every load loop is a wrk run bounded by --duration,
all traffic is on 127.0.0.1.
"""

import argparse
import datetime
import json
import os
import resource
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402
import tls_targets  # noqa: E402
from chart import chart  # noqa: E402
from report import median_row, table  # noqa: E402
from procs import log  # noqa: E402

WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50=%d p90=%d p99=%d p999=%d mean=%.1f max=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.mean, latency.max))
end
"""

BODIES = {"2": "/b2", "4k": "/b4k", "256k": "/b256k"}
BODY_BYTES = {"2": 2, "4k": 4096, "256k": 262144}


# --------------------------------------------------------------------------- proxies

def start_berth(work, up_port, cpu, workers=1):
    p = procs.start([os.environ["BERTH_BIN"], "--profile", "same-region-failover",
                     "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--workers", str(workers),
                     "--log-level", "warning"],
                    cpu=cpu, stdout=subprocess.PIPE, stderr=open(os.path.join(work, f"berth-w{workers}.stderr"), "w"))
    port, admin = procs.read_ready_line(p)
    return p, port


def start_nginx_proxy(work, up_port, cpu, workers=1):
    port = procs.free_port()
    name = f"nginx-proxy-w{workers}"
    conf = os.path.join(work, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes {workers};
daemon off;
pid {work}/{name}.pid;
error_log {work}/{name}.err warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;{procs.NGINX_TEMP_PATHS.format(d=work + '/np')}
  upstream up {{ server 127.0.0.1:{up_port}; keepalive 128; keepalive_requests 100000000; }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
    p = procs.start(["nginx", "-c", conf, "-p", work], cpu=cpu,
                    stderr=open(os.path.join(work, f"{name}.stderr"), "w"))
    procs.wait_port(port)
    return p, port


def start_haproxy(work, up_port, cpu, threads=1):
    port = procs.free_port()
    conf = os.path.join(work, f"haproxy-t{threads}.cfg")
    with open(conf, "w") as f:
        f.write(f"""global
  nbthread {threads}
  maxconn 8000

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 300s
  http-reuse always

frontend fe
  bind 127.0.0.1:{port}
  default_backend be

backend be
  server s1 127.0.0.1:{up_port}
""")
    p = procs.start(["haproxy", "-f", conf, "-db"], cpu=cpu,
                    stderr=open(os.path.join(work, f"haproxy-t{threads}.stderr"), "w"))
    procs.wait_port(port)
    return p, port


def start_floor(work, up_port, cpu):
    """The byte-moving floor (bench/floor/floor.c): what the kernel alone charges per request on this machine."""
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "floor", "floor.c")
    exe = os.path.join(work, "floor")
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise RuntimeError("the floor target needs a C compiler (apt-get install -y gcc)")
    subprocess.run([cc, "-O2", "-o", exe, src, "-levent"], check=True)
    port = procs.free_port()
    p = procs.start([exe, str(port), str(up_port)], cpu=cpu, stderr=open(os.path.join(work, "floor.stderr"), "w"))
    procs.wait_port(port)
    return p, port


def start_berth2(work, up_port, cpu):
    """berth --workers 2: two loops on one port (SO_REUSEPORT). Pinned, both share core 0 (overhead only); with
    --no-pin they may use both cores."""
    return start_berth(work, up_port, cpu, workers=2)


PROXIES = {"berth": start_berth, "berth2": start_berth2, "nginx": start_nginx_proxy, "haproxy": start_haproxy,
           "floor": start_floor,
           # Two workers (nginx worker_processes 2) and two threads (HAProxy nbthread 2), to compare with berth2.
           "nginx2": lambda w, u, c: start_nginx_proxy(w, u, c, workers=2),
           "haproxy2": lambda w, u, c: start_haproxy(w, u, c, threads=2),
           # TLS to the upstream (tls_targets.py): started with the upstream's TLS port.
           **tls_targets.PROXIES}


# --------------------------------------------------------------------------- one measurement

def run_wrk(port, up_port, path, duration, connections, cpu, lua):
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "2s", "-s", lua,
            "-H", f"Host: 127.0.0.1:{up_port}", f"http://127.0.0.1:{port}{path}"]
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + argv
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30)
    line = next((l for l in r.stdout.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed (exit {r.returncode}): {r.stdout}{r.stderr}")
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


def measure(name, port, proxy_pid, up_pid, up_port, args, lua):
    path = BODIES[args.body]
    if args.warmup > 0:
        run_wrk(port, up_port, path, args.warmup, args.connections, args.load_cpu, lua)
    proxy_tree = procs.proc_tree(proxy_pid) if proxy_pid else []
    up_tree = procs.proc_tree(up_pid)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0 = procs.cpu_split(proxy_tree)
    c0p, c0u, b0, t0 = sum(s0), procs.cpu_seconds(up_tree), procs.system_busy_seconds(), time.monotonic()
    w = run_wrk(port, up_port, path, args.duration, args.connections, args.load_cpu, lua)
    s1 = procs.cpu_split(proxy_tree)
    c1p, c1u, b1, t1 = sum(s1), procs.cpu_seconds(up_tree), procs.system_busy_seconds(), time.monotonic()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = t1 - t0
    reqs = w["requests"]
    secs = w["duration_us"] / 1e6
    proxy_cpu = c1p - c0p
    up_cpu = c1u - c0u
    wrk_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    busy = b1 - b0
    errors = int(w["connect"] + w["read"] + w["write"] + w["status"] + w["timeout"])
    return {
        "target": name,
        "requests": int(reqs),
        "seconds": round(secs, 3),
        "rps": round(reqs / secs, 1),
        "p50_us": int(w["p50"]), "p90_us": int(w["p90"]), "p99_us": int(w["p99"]), "p999_us": int(w["p999"]),
        "mean_us": round(w["mean"], 1), "max_us": int(w["max"]),
        "errors": errors,
        "proxy_cpu_s": round(proxy_cpu, 3) if proxy_pid else None,
        "proxy_cpu_us_per_req": round(proxy_cpu / reqs * 1e6, 2) if proxy_pid and reqs else None,
        "proxy_cores": round(proxy_cpu / wall, 3) if proxy_pid else None,
        # The same CPU split into user space (the proxy's own code) and kernel (system calls, and the loopback
        # peer's receive processing, which runs in the sender's context).
        "proxy_user_us_per_req": round((s1[0] - s0[0]) / reqs * 1e6, 2) if proxy_pid and reqs else None,
        "proxy_sys_us_per_req": round((s1[1] - s0[1]) / reqs * 1e6, 2) if proxy_pid and reqs else None,
        "upstream_cpu_us_per_req": round(up_cpu / reqs * 1e6, 2) if reqs else None,
        "wrk_cores": round(wrk_cpu / wall, 3),
        # CPU used on the machine by anything other than the proxy, the upstream and wrk: the noise.
        "other_cores": round(max(0.0, busy - proxy_cpu - up_cpu - wrk_cpu) / wall, 3),
    }


# --------------------------------------------------------------------------- report

def targets_verdict(summary):
    b, h = summary.get("berth"), summary.get("haproxy")
    d = summary.get("direct")
    if not b or not h:
        return tls_targets.verdict(summary)
    v = tls_targets.verdict(summary)
    if b["proxy_cpu_us_per_req"] and h["proxy_cpu_us_per_req"]:
        ratio = b["proxy_cpu_us_per_req"] / h["proxy_cpu_us_per_req"]
        v["cpu_per_request_vs_haproxy"] = {"ratio": round(ratio, 3), "target": "<= 0.75", "met": ratio <= 0.75}
        f = summary.get("floor")
        if f and f["proxy_cpu_us_per_req"]:
            # What no proxy on this machine can go under: the kernel's share, measured in the same run.
            v["floor_cpu_per_request_vs_haproxy"] = {"ratio": round(f["proxy_cpu_us_per_req"] / h["proxy_cpu_us_per_req"], 3)}
            v["berth_cpu_above_floor_us"] = round(b["proxy_cpu_us_per_req"] - f["proxy_cpu_us_per_req"], 2)
    ratio = b["rps"] / h["rps"]
    v["throughput_vs_haproxy"] = {"ratio": round(ratio, 3), "target": ">= 1.05", "met": ratio >= 1.05}
    b2 = summary.get("berth2")
    if b2:
        # "Must not regress on 2 cores": within 5% of one worker, the spread of rounds on a quiet machine.
        r2 = b2["rps"] / b["rps"]
        v["workers2_throughput_vs_workers1"] = {"ratio": round(r2, 3), "target": ">= 0.95", "met": r2 >= 0.95}
    if d:
        for q in ("p50_us", "p99_us"):
            bb, hh = b[q] - d[q], h[q] - d[q]
            v[f"added_{q}"] = {"berth": bb, "haproxy": hh, "target": "berth <= haproxy", "met": bb <= hh}
    return v


# --------------------------------------------------------------------------- main

def main(argv):
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    ap.add_argument("--duration", type=int, default=10, help="whole seconds per measured wrk run (default 10)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    ap.add_argument("--body", choices=sorted(BODIES), default="2", help="response body size (default 2)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="measure every target this many times, order rotated; medians reported (default 3)")
    ap.add_argument("--warmup", type=int, default=None, help="unmeasured whole wrk seconds before each run (default 2)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 s each, 1 round, 1 s warm-up")
    ap.add_argument("--no-pin", action="store_true", help="do not pin proxy to core 0 and wrk+upstream to core 1")
    has_cc = any(shutil.which(c) for c in ("cc", "gcc", "clang"))
    ap.add_argument("--targets", default="direct,berth,nginx,haproxy" + (",floor" if has_cc else ""),
                    help="comma-separated subset of direct, berth, nginx, haproxy, floor (the byte-moving floor, "
                         "bench/floor/floor.c; in the default set when a C compiler is installed); also berth2, "
                         "nginx2, haproxy2: two workers or threads each (not in the default set; see --no-pin); "
                         "berth-tls, haproxy-tls, nginx-tls: pooled TLS to the upstream's ssl port, and berth-tls-new, "
                         "haproxy-tls-new: a new (resumed) TLS connection per request (tls_targets.py)")
    ap.add_argument("--out", default=os.path.join(procs.BENCH_DIR, "results"), help="results directory")
    ap.add_argument("--name", default=None,
                    help="result file stem (default latest; quick with --quick, so a smoke run keeps latest.*)")
    args = ap.parse_args(argv)
    if args.quick:
        args.duration, args.rounds = 2, 1
        if args.warmup is None:
            args.warmup = 1
    if args.warmup is None:
        args.warmup = 2
    if args.name is None:
        args.name = "quick" if args.quick else "latest"
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2
    args.proxy_cpu = 0 if pin else None
    args.load_cpu = 1 if pin else None
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    for t in targets:
        if t != "direct" and t not in PROXIES:
            ap.error(f"unknown target {t}")
    if "floor" in targets and args.body == "256k":
        if args.targets != ap.get_default("targets"):
            ap.error("the floor relay handles bodies up to the socket buffer: use --body 2 or 4k")
        targets.remove("floor")
        log("floor left out: it handles bodies up to the socket buffer, not 256k")

    work = procs.tmpdir("berth-bench-")
    os.makedirs(os.path.join(work, "np"), exist_ok=True)
    lua = os.path.join(work, "report.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    os.makedirs(args.out, exist_ok=True)

    info = procs.machine()
    info.update({
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "berth_bin": os.environ["BERTH_BIN"],
        "berth_version": procs.tool_version([os.environ["BERTH_BIN"], "--version"]),
        "nginx": procs.tool_version(["nginx", "-v"]),
        "haproxy": procs.tool_version(["haproxy", "-v"]),
        "wrk": procs.tool_version(["wrk", "--version"]),
    })
    log(f"{info['nproc']} cores, {info['cpu_model']}, kernel {info['kernel']}, load {info['loadavg_at_start']}")
    try:
        up_port = procs.free_port()
        tls_port = procs.free_port() if any(t in tls_targets.TARGETS for t in targets) else None
        pki = tls_targets.prepare(work) if tls_port else None
        up = procs.start_upstream_nginx(work, up_port, cpu=args.load_cpu,
                                        tls=(tls_port, pki["cert"], pki["key"]) if tls_port else None)
        running = {}
        for t in targets:
            # The port wrk names in Host: the TLS targets reach the upstream's ssl port.
            host_port = tls_port if t in tls_targets.TARGETS else up_port
            if t == "direct":
                running[t] = (None, up_port, host_port)
            else:
                p, port = PROXIES[t](work, host_port, args.proxy_cpu)
                running[t] = (p.pid, port, host_port)
        runs = []
        for rnd in range(args.rounds):
            order = targets[rnd % len(targets):] + targets[:rnd % len(targets)]
            for t in order:
                pid, port, host_port = running[t]
                r = measure(t, port, pid, up.pid, host_port, args, lua)
                r["round"] = rnd + 1
                runs.append(r)
                log(f"round {rnd + 1} {t:<8} {r['rps']:>9.0f} req/s  p50 {r['p50_us']} µs  p99 {r['p99_us']} µs  "
                    f"cpu {r['proxy_cpu_us_per_req']} µs/req  other load {r['other_cores']} cores"
                    + (f"  ERRORS {r['errors']}" if r["errors"] else ""))
        # What pooling and resumption saved: berth's own counts, over every round and warm-up.
        handshakes = {t: h for t in targets if (h := tls_targets.handshakes(t)) is not None}
    except BaseException:
        procs.stop_all()
        log(f"failed; logs and configs kept in {work}")
        raise
    procs.stop_all()
    shutil.rmtree(work, ignore_errors=True)

    summary = {t: median_row([r for r in runs if r["target"] == t]) for t in targets}
    verdict = targets_verdict(summary)
    info["loadavg_at_end"] = open("/proc/loadavg").read().split()[:3]
    result = {
        "machine": info,
        "settings": {"duration_s": args.duration, "connections": args.connections, "wrk_threads": 1,
                     "body": args.body, "body_bytes": BODY_BYTES[args.body], "rounds": args.rounds,
                     "warmup_s": args.warmup, "pinned": pin,
                     "pinning": "proxy on core 0; wrk and upstream nginx on core 1" if pin else "none",
                     "quick": args.quick},
        "summary": summary,
        "targets": verdict,
        "tls_handshakes": handshakes,
        "runs": runs,
    }
    title = (f"berth bench: body {args.body}, wrk -t1 -c{args.connections}, {args.duration:g}s x {args.rounds} "
             f"round(s), median; {info['nproc']} cores {info['cpu_model']}; {info['date']}")
    print()
    print(title)
    print(table(summary, targets))
    if verdict:
        print()
        for k, v in verdict.items():
            print(f"  {k}: {json.dumps(v)}")
    for t, h in handshakes.items():
        print(f"  {t} handshakes: {json.dumps(h)}")
    if any(r["errors"] for r in runs):
        print("\nWARNING: some runs had wrk errors (see runs[].errors in the JSON)")
    noisy = max(r["other_cores"] for r in runs)
    print(f"\nnoise: other processes used up to {noisy:.2f} cores during a run "
          f"(column 'other cores'; 0 would be a quiet machine of {info['nproc']} cores)")
    jpath = os.path.join(args.out, f"{args.name}.json")
    with open(jpath + ".tmp", "w") as f:
        json.dump(result, f, indent=2)
    os.replace(jpath + ".tmp", jpath)
    png = os.path.join(args.out, f"{args.name}.png")
    if chart(summary, targets, png, title):
        print(f"wrote {jpath} and {png}")
    else:
        print(f"wrote {jpath}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
