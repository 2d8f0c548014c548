"""Side-by-side throughput / latency / CPU-per-request benchmark: direct, berth, nginx, HAProxy, the floor relay,
with callers on loopback TCP and (the -unix targets) on Unix sockets.

Started by bench/run; see docs/performance.md. Every load loop is a wrk or bench/load run bounded by --duration,
all traffic stays on this machine (127.0.0.1 and socket files in a temporary directory).
"""

import argparse
import datetime
import json
import os
import resource
import shutil
import statistics
import sys
import time

import procs
import tls_targets
from clients import Client
from procs import log
from targets import DIRECT, PROXIES, has_cc, is_unix, unix_counterpart

BODIES = {"2": "/b2", "4k": "/b4k", "256k": "/b256k"}
BODY_BYTES = {"2": 2, "4k": 4096, "256k": 262144}


# --------------------------------------------------------------------------- one measurement

def measure(name, address, proxy_pid, up_pid, up_port, args, client):
    path = BODIES[args.body]
    if args.warmup > 0:
        client.run(address, up_port, path, args.warmup, args.connections, args.load_cpu)
    proxy_tree = procs.proc_tree(proxy_pid) if proxy_pid else []
    up_tree = procs.proc_tree(up_pid)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0 = procs.cpu_split(proxy_tree)
    c0p, c0u, b0, t0 = sum(s0), procs.cpu_seconds(up_tree), procs.system_busy_seconds(), time.monotonic()
    w = client.run(address, up_port, path, args.duration, args.connections, args.load_cpu)
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

def median_row(rows):
    out = {"target": rows[0]["target"], "rounds": len(rows)}
    for k, v in rows[0].items():
        if k == "target":
            continue
        vals = [r[k] for r in rows if r[k] is not None]
        if not vals:
            out[k] = None
        elif k == "errors":
            out[k] = sum(vals)
        else:
            m = statistics.median(vals)
            out[k] = round(m, 3) if isinstance(m, float) else m
    if len(rows) > 1:
        rps = [r["rps"] for r in rows]
        out["rps_min"], out["rps_max"] = min(rps), max(rps)
        cpu = [r["proxy_cpu_us_per_req"] for r in rows if r["proxy_cpu_us_per_req"] is not None]
        if cpu:
            out["cpu_min"], out["cpu_max"] = min(cpu), max(cpu)
    return out


def fmt(v, spec="{:.0f}"):
    return "-" if v is None else spec.format(v)


def table(summary, targets):
    direct = summary.get("direct")
    hdr = (f"{'target':<12} {'req/s':>9} {'p50 µs':>7} {'p99 µs':>7} {'+p50':>6} {'+p99':>6} "
           f"{'cpu µs/req':>10} {'user':>5} {'sys':>5} {'proxy cores':>11} {'up µs/req':>9} {'load cores':>10} {'other cores':>11} {'errors':>6}")
    lines = [hdr, "-" * len(hdr)]
    for t in targets:
        r = summary[t]
        add50 = r["p50_us"] - direct["p50_us"] if direct and t != "direct" else None
        add99 = r["p99_us"] - direct["p99_us"] if direct and t != "direct" else None
        lines.append(f"{t:<12} {fmt(r['rps']):>9} {fmt(r['p50_us']):>7} {fmt(r['p99_us']):>7} {fmt(add50):>6} "
                     f"{fmt(add99):>6} {fmt(r['proxy_cpu_us_per_req'], '{:.2f}'):>10} "
                     f"{fmt(r.get('proxy_user_us_per_req'), '{:.1f}'):>5} {fmt(r.get('proxy_sys_us_per_req'), '{:.1f}'):>5} "
                     f"{fmt(r['proxy_cores'], '{:.2f}'):>11} {fmt(r['upstream_cpu_us_per_req'], '{:.2f}'):>9} "
                     f"{fmt(r['wrk_cores'], '{:.2f}'):>10} {fmt(r['other_cores'], '{:.2f}'):>11} {r['errors']:>6}")
    return "\n".join(lines)


def targets_verdict(summary):
    """The goals of docs/performance.md for callers on TCP, then (keys prefixed unix_) for callers on a Unix socket,
    where the goal is only CPU per request below HAProxy's with its Unix-socket bind. Added latency is against the
    upstream reached directly over TCP in both: what a caller that did without the proxy would see."""
    v = _verdict(summary, "", cpu_goal=0.75)
    v.update(_verdict(summary, "-unix", cpu_goal=1.0))
    return v


def _verdict(summary, kind, cpu_goal):
    b, h = summary.get("berth" + kind), summary.get("haproxy" + kind)
    d = summary.get("direct")
    prefix = "unix_" if kind else ""
    if not b or not h:
        return tls_targets.verdict(summary)
    v = tls_targets.verdict(summary)
    if b["proxy_cpu_us_per_req"] and h["proxy_cpu_us_per_req"]:
        ratio = b["proxy_cpu_us_per_req"] / h["proxy_cpu_us_per_req"]
        goal = f"<= {cpu_goal}" if cpu_goal < 1 else f"< {cpu_goal}"
        met = ratio <= cpu_goal if cpu_goal < 1 else ratio < cpu_goal
        v[prefix + "cpu_per_request_vs_haproxy"] = {"ratio": round(ratio, 3), "target": goal, "met": met}
        f = summary.get("floor" + kind)
        if f and f["proxy_cpu_us_per_req"]:
            # What no proxy on this machine can go under: the kernel's share, measured in the same run.
            v[prefix + "floor_cpu_per_request_vs_haproxy"] = {"ratio": round(f["proxy_cpu_us_per_req"] / h["proxy_cpu_us_per_req"], 3)}
            v[prefix + "berth_cpu_above_floor_us"] = round(b["proxy_cpu_us_per_req"] - f["proxy_cpu_us_per_req"], 2)
            v[prefix + "berth_cpu_vs_floor"] = {"ratio": round(b["proxy_cpu_us_per_req"] / f["proxy_cpu_us_per_req"], 3)}
    ratio = b["rps"] / h["rps"]
    v[prefix + "throughput_vs_haproxy"] = {"ratio": round(ratio, 3)}
    if not kind:
        v[prefix + "throughput_vs_haproxy"].update({"target": ">= 1.05", "met": ratio >= 1.05})
    b2 = summary.get("berth2" + kind)
    if b2:
        # "Must not regress on 2 cores": within 5% of one worker, the spread of rounds on a quiet machine.
        r2 = b2["rps"] / b["rps"]
        v[prefix + "workers2_throughput_vs_workers1"] = {"ratio": round(r2, 3), "target": ">= 0.95", "met": r2 >= 0.95}
    if d:
        for q in ("p50_us", "p99_us"):
            bb, hh = b[q] - d[q], h[q] - d[q]
            v[f"{prefix}added_{q}"] = {"berth": bb, "haproxy": hh, "target": "berth <= haproxy", "met": bb <= hh}
    return v


def chart(summary, targets, path, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: chart skipped")
        return False
    colors = {"direct": "#999999", "berth": "#2a7ab0", "berth2": "#6aa6d0", "berth-b": "#8e5ab0", "nginx": "#3c9a3c", "nginx2": "#7cc47c",
              "haproxy": "#d0772b", "haproxy2": "#e8a66b", "floor": "#bbbbbb", "direct-unix": "#777777",
              "berth-unix": "#17507a", "berth2-unix": "#4a86b0", "nginx-unix": "#246b24", "haproxy-unix": "#a0531a",
              "floor-unix": "#8a8a8a"}
    fig, axes = plt.subplots(1, 3, figsize=(13 + 0.9 * max(0, len(targets) - 6), 4.2))
    ax = axes[0]
    rps = [summary[t]["rps"] for t in targets]
    bars = ax.bar(targets, rps, color=[colors.get(t, "#555") for t in targets])
    for t, bar in zip(targets, bars):
        r = summary[t]
        if "rps_min" in r:
            ax.errorbar(bar.get_x() + bar.get_width() / 2, r["rps"],
                        yerr=[[r["rps"] - r["rps_min"]], [r["rps_max"] - r["rps"]]], color="black", capsize=4)
    ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.set_title("requests/s (higher is better)")
    prox = [t for t in targets if summary[t]["proxy_cpu_us_per_req"] is not None]
    ax = axes[1]
    cpu = [summary[t]["proxy_cpu_us_per_req"] for t in prox]
    bars = ax.bar(prox, cpu, color=[colors.get(t, "#555") for t in prox])
    ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_title("proxy CPU µs per request (lower is better)")
    ax = axes[2]
    # Latency added to the direct baseline when it was measured; otherwise the latency itself.
    d = summary.get("direct")
    import numpy as np
    x = np.arange(len(prox))
    base50, base99 = (d["p50_us"], d["p99_us"]) if d else (0, 0)
    a50 = [summary[t]["p50_us"] - base50 for t in prox]
    a99 = [summary[t]["p99_us"] - base99 for t in prox]
    b1 = ax.bar(x - 0.2, a50, 0.4, label="p50", color="#6a9fd0")
    b2 = ax.bar(x + 0.2, a99, 0.4, label="p99", color="#1f4e79")
    ax.bar_label(b1, fmt="%.0f", fontsize=8)
    ax.bar_label(b2, fmt="%.0f", fontsize=8)
    ax.set_xticks(x, prox)
    ax.legend(fontsize=8)
    ax.set_title("added latency µs vs direct (lower is better)" if d else "latency µs (lower is better; no direct run)")
    for a in axes:
        a.tick_params(axis="x", labelrotation=30 if len(targets) > 6 else 0, labelsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


# --------------------------------------------------------------------------- main

def main(argv):
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    ap.add_argument("--duration", type=int, default=10, help="whole seconds per measured load run (default 10)")
    ap.add_argument("--connections", type=int, default=64, help="load client connections (default 64)")
    ap.add_argument("--body", choices=sorted(BODIES), default="2", help="response body size (default 2)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="measure every target this many times, order rotated; medians reported (default 3)")
    ap.add_argument("--warmup", type=int, default=None, help="unmeasured whole seconds of load before each run (default 2)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 s each, 1 round, 1 s warm-up")
    ap.add_argument("--no-pin", action="store_true", help="do not pin proxy to core 0 and the load+upstream to core 1")
    ap.add_argument("--targets", default="direct,berth,nginx,haproxy" + (",floor" if has_cc() else ""),
                    help="comma-separated subset of direct, berth, nginx, haproxy, floor (the byte-moving floor, "
                         "bench/floor/floor.c; in the default set when a C compiler is installed); also berth2, "
                         "nginx2, haproxy2: two workers or threads each (not in the default set; see --no-pin); "
                         "and the same with -unix (direct-unix, berth-unix, berth2-unix, nginx-unix, haproxy-unix, "
                         "floor-unix): callers on a Unix socket; berth-b: a second berth binary "
                         "($BERTH_BIN_B, e.g. the previous commit's) in the same rounds, for an A/B of a change")
    ap.add_argument("--unix", action="store_true",
                    help="add the -unix counterpart of every target, measured side by side in the same rounds")
    ap.add_argument("--client", choices=["auto", "wrk", "load"], default="auto",
                    help="load client: wrk, or bench/load/load.c (needs a C compiler; reaches Unix sockets too). "
                         "auto (default): wrk unless a target is on a Unix socket; then load for every target, so "
                         "req/s and latency compare within the run")
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
    if args.unix:
        targets += [u for u in map(unix_counterpart, list(targets)) if u and u not in targets]
    for t in targets:
        if t not in DIRECT and t not in PROXIES and t not in tls_targets.PROXIES:
            ap.error(f"unknown target {t}")
    for floor in ("floor", "floor-unix"):
        if floor in targets and args.body == "256k":
            if args.targets != ap.get_default("targets"):
                ap.error("the floor relay handles bodies up to the socket buffer: use --body 2 or 4k")
            targets.remove(floor)
            log(f"{floor} left out: it handles bodies up to the socket buffer, not 256k")
    unix = any(is_unix(t) for t in targets)
    if args.client == "wrk" and unix:
        ap.error("wrk cannot reach a Unix socket: use --client load (or auto)")
    args.client = args.client if args.client != "auto" else ("load" if unix else "wrk")

    work = procs.tmpdir("berth-bench-")
    os.makedirs(os.path.join(work, "np"), exist_ok=True)
    client = Client(args.client, work)
    os.makedirs(args.out, exist_ok=True)

    info = procs.machine()
    info.update({
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "berth_bin": os.environ["BERTH_BIN"],
        "berth_version": procs.tool_version([os.environ["BERTH_BIN"], "--version"]),
        "nginx": procs.tool_version(["nginx", "-v"]),
        "haproxy": procs.tool_version(["haproxy", "-v"]),
        "wrk": procs.tool_version(["wrk", "--version"]),
        "load_client": "wrk" if args.client == "wrk" else "bench/load/load.c",
    })
    log(f"{info['nproc']} cores, {info['cpu_model']}, kernel {info['kernel']}, load {info['loadavg_at_start']}")
    try:
        up_port = procs.free_port()
        up_unix = os.path.join(work, "upstream.sock")
        # TLS targets (tls_targets.py) reach the same nginx on a port of its own with `listen ... ssl`.
        tls_port = procs.free_port() if any(t in tls_targets.TARGETS for t in targets) else None
        pki = tls_targets.prepare(work) if tls_port else None
        up = procs.start_upstream_nginx(work, up_port, cpu=args.load_cpu, unix=up_unix if unix else None,
                                        tls=(tls_port, pki["cert"], pki["key"]) if tls_port else None)
        running = {}
        for t in targets:
            if t in DIRECT:
                running[t] = (None, f"unix:{up_unix}" if is_unix(t) else up_port)
            elif t in tls_targets.PROXIES:
                p, address = tls_targets.PROXIES[t](work, tls_port, args.proxy_cpu)
                running[t] = (p.pid, address)
            else:
                p, address = PROXIES[t](work, up_port, args.proxy_cpu)
                running[t] = (p.pid, address)
        runs = []
        for rnd in range(args.rounds):
            order = targets[rnd % len(targets):] + targets[:rnd % len(targets)]
            for t in order:
                pid, address = running[t]
                # The port requests name: a TLS target reaches the upstream's ssl port.
                r = measure(t, address, pid, up.pid, tls_port if t in tls_targets.TARGETS else up_port, args, client)
                r["round"] = rnd + 1
                runs.append(r)
                log(f"round {rnd + 1} {t:<12} {r['rps']:>9.0f} req/s  p50 {r['p50_us']} µs  p99 {r['p99_us']} µs  "
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
                     "client": args.client,
                     "body": args.body, "body_bytes": BODY_BYTES[args.body], "rounds": args.rounds,
                     "warmup_s": args.warmup, "pinned": pin,
                     "pinning": f"proxy on core 0; {args.client} and upstream nginx on core 1" if pin else "none",
                     "quick": args.quick},
        "summary": summary,
        "targets": verdict,
        "tls_handshakes": handshakes,
        "runs": runs,
    }
    title = (f"berth bench: body {args.body}, {args.client} -t1 -c{args.connections}, {args.duration:g}s x {args.rounds} "
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
