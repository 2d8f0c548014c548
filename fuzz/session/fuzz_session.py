#!/usr/bin/env python3
"""Black-box fuzzer of one berth proxy session: random / mutated caller byte streams against a raw upstream that
answers with random / mutated response bytes. Seeded and bounded in time and iterations.

Invariants checked after every execution (an execution = one caller connection and what it causes upstream):
  1. berth never crashes: the process is alive and GET /healthz answers 200;
  2. the caller connection ends (every response it asked for arrived, or berth closed it) within BOUND seconds;
  3. the upstream never parses a request the caller did not send: every request target the upstream parses
     (llhttp, strict) is one a strict parser (llhttp) finds in the caller bytes, the /SMUGGLED target of the
     smuggling corpus never arrives unless llhttp itself frames it as a separate caller request, and the upstream
     never parses more requests than the caller sent (a replay by a berth retry is counted separately);
  4. /stats stays consistent: after the execution (and /evict of the lane's upstream) busy, pending and connecting
     return to 0 and open = idle + busy + connecting.
With --tls every upstream speaks TLS (Python's ssl, a certificate made for the run) and berth reaches it through
a `tls:` destination entry, so the same streams cross OpenSSL's record boundaries on berth's upstream side.
Usage: fuzz_session.py --seconds 30 [--seed 1] [--lanes 4] [--max-execs N] [--out DIR] [--tls]
Exit status 0 when no invariant broke, 1 otherwise. Each violation is written to DIR as a JSON file with the
seed of its execution, the caller bytes and the upstream script (replay with --replay FILE).
"""
import argparse
import base64
import json
import os
import random
import ssl
import sys
import tempfile
import threading
import time

import berthkit
from case_gen import make_case
from execution import execute
from fuzzed_berth import start_fuzzed_berth
from lane import Lane

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lanes", type=int, default=4)
    ap.add_argument("--max-execs", type=int, default=1_000_000)
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--berth", default=os.environ.get("BERTH_BIN", os.path.join(ROOT, ".build", "release", "berth")))
    ap.add_argument("--replay", help="a violation JSON file: run that one case and print the outcome")
    ap.add_argument("--repeat", type=int, default=1, help="with --replay: run the case up to N times")
    ap.add_argument("--tls", action="store_true", help="upstreams speak TLS; berth originates it")
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    server_tls, ca = None, None
    if args.tls:
        from berthkit.tls_pki import PKI  # the TLS suite's PKI, made with the openssl tool
        pki = PKI(tempfile.mkdtemp(prefix="berth-fuzz-pki-"))
        server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_tls.load_cert_chain(pki.server, pki.server_key)
        ca = pki.ca
    berth = start_fuzzed_berth(args.berth, out, tls_ca=ca)
    lanes = [Lane(server_tls) for _ in range(args.lanes)]
    stats = {"executions": 0, "replays": 0, "upstream_bytes_llhttp_rejects": 0, "upstream_reject_examples": [],
             "outcomes": {}, "violations": 0}
    lock = threading.Lock()
    violations = []
    t0 = time.monotonic()

    if args.replay:
        rec = json.load(open(args.replay))
        case = {**rec["case"], "caller": base64.b64decode(rec["case"]["caller"]),
                "response": base64.b64decode(rec["case"]["response"])}
        seen = {}
        v = []
        for i in range(args.repeat):
            v, how = execute(berth, lanes[0], case, i + 1, stats)
            seen[how] = seen.get(how, 0) + 1
            if v:
                break
        print(json.dumps({"runs": i + 1, "violations": v, "outcomes": seen}, indent=2))
        berth.stop()
        return 1 if v else 0

    def lane_loop(li, lane):
        n = 0
        while time.monotonic() - t0 < args.seconds and not violations_stop.is_set():
            with lock:
                if stats["executions"] >= args.max_execs:
                    return
                stats["executions"] += 1
                execution = stats["executions"]
            case_seed = (args.seed * 1_000_003 + li) * 10_000_019 + n
            n += 1
            case = make_case(random.Random(case_seed), lane.hp)
            try:
                v, how = execute(berth, lane, case, execution, stats)
            except Exception as e:  # noqa: BLE001 - a harness error is reported like a violation
                v, how = [f"harness error: {type(e).__name__}: {e}"], "error"
            if v:
                rec = {"case_seed": case_seed, "lane": li, "violations": v, "outcome": how,
                       "case": {**case, "caller": base64.b64encode(case["caller"]).decode(),
                                "response": base64.b64encode(case["response"]).decode()},
                       "caller_text": case["caller"][:2000].decode("latin-1"),
                       "response_text": case["response"][:2000].decode("latin-1")}
                path = os.path.join(out, f"violation-{args.seed}-{case_seed}.json")
                with open(path, "w") as f:
                    json.dump(rec, f, indent=2)
                with lock:
                    violations.append((path, v))
                    stats["violations"] += 1
                if berth.proc.poll() is not None:
                    violations_stop.set()

    violations_stop = threading.Event()
    ts = [threading.Thread(target=lane_loop, args=(i, lane), daemon=True) for i, lane in enumerate(lanes)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(args.seconds + 60)
    elapsed = time.monotonic() - t0
    alive = berth.proc.poll() is None
    # With --tls, proof that the streams went over TLS: berth's handshake counts.
    handshakes = berthkit.stats(berth, timeout=3)["totals"].get("tls") if alive and args.tls else None
    berth.stop()
    for lane in lanes:
        lane.close()
    summary = {"seed": args.seed, "tls": args.tls, "seconds": round(elapsed, 1), "executions": stats["executions"],
               "executions_per_second": round(stats["executions"] / elapsed, 1), "lanes": args.lanes,
               "violations": stats["violations"], "berth_alive_at_end": alive, "outcomes": stats["outcomes"],
               "tls_handshakes": handshakes,
               "replays_by_retry": stats["replays"],
               "upstream_bytes_llhttp_rejects": stats["upstream_bytes_llhttp_rejects"],
               "upstream_reject_examples": stats["upstream_reject_examples"]}
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    for path, v in violations[:20]:
        print(f"VIOLATION {path}: {v}")
    return 1 if violations or not alive else 0


if __name__ == "__main__":
    sys.exit(main())
