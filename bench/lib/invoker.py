"""bench/invoker: the long invoker simulation of issue 13 (modes a-e of tests/berthkit/invoker_sim.py), with a JSON
result and a Markdown table. Needs root and a writable cgroup v2 mount; node; BERTH_BIN (bench/lib/common.sh)."""
import argparse
import json
import os
import sys
import time

from berthkit import Berth, BERTH_BIN
from berthkit.cgroup_helpers import cgroup2_root
from berthkit.invoker_sim import MODES, Params, combine, params_dict, run_mode, table
from berthkit.process import ROOT as REPO
from berthkit.upstream_process import machine


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--modes", default="abcde", help="which of a, b, c, d, e (default all)")
    ap.add_argument("--containers", type=int, default=4)
    ap.add_argument("--cycles", type=int, default=130, help="bursts per container and mode, each followed by a freeze")
    ap.add_argument("--rounds", type=int, default=5,
                    help="the modes take turns, each running cycles/rounds per turn, so the machine's other load falls on all alike")
    ap.add_argument("--burst", type=int, default=10)
    ap.add_argument("--keepalive-ms", type=int, default=1000)
    ap.add_argument("--frozen", type=float, default=1.2, help="seconds per freeze")
    ap.add_argument("--pause-grace", type=float, default=0.05)
    ap.add_argument("--prewarm", type=int, default=1, help="mode (a): /resume?prewarm=N")
    ap.add_argument("--quick", action="store_true", help="2 containers, 10 cycles: a smoke run")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results", "invoker.json"))
    args = ap.parse_args()
    if args.quick:
        args.containers, args.cycles, args.rounds = 2, 10, 2
        args.out = args.out.replace("invoker.json", "invoker-quick.json")
    unknown = set(args.modes) - set(MODES)
    if unknown:
        ap.error(f"unknown modes {sorted(unknown)}; known: {', '.join(MODES)}")
    root, why = cgroup2_root()
    if root is None:
        sys.exit(f"bench/invoker needs a writable cgroup v2 mount: {why}")
    if args.cycles % args.rounds:
        ap.error("--cycles must be a multiple of --rounds")
    p = Params(containers=args.containers, cycles=args.cycles // args.rounds, burst=args.burst,
               keepalive_ms=args.keepalive_ms, frozen_s=args.frozen, pause_grace_s=args.pause_grace, prewarm=args.prewarm)
    parts = {m: [] for m in args.modes}
    started = time.time()
    for n in range(args.rounds):
        for mode in args.modes:
            if parts[mode] and "skipped" in parts[mode][0]:
                continue
            made = []

            def start(*flags):
                b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", *flags])
                made.append(b)
                return b

            print(f"bench/invoker: round {n + 1}/{args.rounds}, mode {mode}: {MODES[mode]}", file=sys.stderr, flush=True)
            try:
                part = run_mode(mode, p, root, start, BERTH_BIN)
            finally:
                for b in made:
                    b.stop()
            parts[mode].append(part)
            print(json.dumps({k: v for k, v in part.items() if k != "records"}), file=sys.stderr, flush=True)
    results = [parts[m][0] if "skipped" in parts[m][0] else combine(m, parts[m]) for m in args.modes]
    p.cycles = args.cycles
    doc = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "machine": machine(),
           "berth_bin": BERTH_BIN, "params": dict(params_dict(p), rounds=args.rounds), "results": results,
           "seconds": round(time.time() - started, 1)}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    md = args.out.rsplit(".", 1)[0] + ".md"
    with open(md, "w") as f:
        f.write(table(results))
    print(table(results))
    print(f"bench/invoker: wrote {args.out} and {md}", file=sys.stderr)


if __name__ == "__main__":
    main()
