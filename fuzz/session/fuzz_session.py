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
import signal
import socket
import ssl
import struct
import tempfile
import subprocess
import sys
import threading
import time
import urllib.request

import llhttp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from smuggling_corpus import SMUGGLED_MARK, corpus  # noqa: E402

HEADER_TIMEOUT = 1.0
SOCKET_TIMEOUT = 0.3
BOUND = 5.0  # header timeout + socket timeout + generous slack for a loaded 2-core machine


# ------------------------------------------------------------------------------------------- llhttp views

class _ReqCounter(llhttp.Request):
    def __init__(self):
        super().__init__()
        self.targets, self.complete, self.methods, self._url = [], 0, [], b""

    def on_message_begin(self):
        self._url = b""

    def on_url(self, data):
        self._url += bytes(data)

    def on_headers_complete(self):
        self.targets.append(self._url.decode("latin-1"))
        self.methods.append(self.method)

    def on_message_complete(self):
        self.complete += 1


def parse_requests(data):
    """(targets whose head parsed, complete count, methods, error or None) for a request byte stream."""
    p = _ReqCounter()
    err = None
    try:
        p.execute(data)
    except Exception as e:  # noqa: BLE001 - llhttp raises one type per error
        err = type(e).__name__
    return p.targets, p.complete, p.methods, err


class _ResCounter(llhttp.Response):
    def __init__(self):
        super().__init__()
        self.final_heads, self.final_complete, self._status = 0, 0, 0

    def on_headers_complete(self):
        if self.status >= 200 or self.status == 101:
            self.final_heads += 1

    def on_message_complete(self):
        if self.status >= 200 or self.status == 101:
            self.final_complete += 1


def path_of(target):
    if target.startswith("http://"):
        rest = target[7:]
        i = rest.find("/")
        return rest[i:] if i >= 0 else "/"
    return target


# -------------------------------------------------------------------------------------------- generators

TOKENS = [b"\r\n", b"\n", b"\r", b" ", b"\t", b":", b",", b";", b"0", b"1", b"-1", b"\x00", b"\xff", b"chunked",
          b"Transfer-Encoding: chunked\r\n", b"Content-Length: 5\r\n", b"Content-Length: 0\r\n", b"Connection: close\r\n",
          b"ffffffffffffffff", b"0\r\n\r\n", b"HTTP/1.1", b"HTTP/1.0", b"\r\n\r\n", b"Expect: 100-continue\r\n",
          b"Upgrade: websocket\r\nConnection: upgrade\r\n", b"Host: x\r\n", f"GET /{SMUGGLED_MARK} HTTP/1.1\r\n".encode()]


def caller_seeds(hp):
    s = [
        f"GET http://{hp}/fz/get HTTP/1.1\r\nHost: {hp}\r\n\r\n",
        f"GET /fz/origin-form HTTP/1.1\r\nHost: {hp}\r\nAccept: */*\r\n\r\n",
        f"POST http://{hp}/fz/post HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 11\r\n\r\nhello world",
        f"POST http://{hp}/fz/chunked HTTP/1.1\r\nHost: {hp}\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
        f"HEAD http://{hp}/fz/head HTTP/1.1\r\nHost: {hp}\r\n\r\n",
        f"GET http://{hp}/fz/http10 HTTP/1.0\r\n\r\n",
        f"PUT http://{hp}/fz/expect HTTP/1.1\r\nHost: {hp}\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody",
        f"GET http://{hp}/fz/pipe1 HTTP/1.1\r\nHost: {hp}\r\n\r\nGET http://{hp}/fz/pipe2 HTTP/1.1\r\nHost: {hp}\r\n\r\n",
        f"DELETE http://{hp}/fz/delete HTTP/1.1\r\nHost: {hp}\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc",
        f"OPTIONS http://{hp}/fz/options HTTP/1.1\r\nHost: {hp}\r\nConnection: keep-alive, x-foo\r\nX-Foo: 1\r\n\r\n",
    ]
    return [x.encode("latin-1") for x in s] + [raw for _, raw in corpus(hp)]


RESPONSE_SEEDS = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nclose-delimited body",
    b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nX-A: b\r\n\r\nnot found",
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x\r\n\r\n3\r\nabc\r\n0\r\nx: y\r\n\r\n",
]


def mutate(rnd, data, others):
    data = bytearray(data)
    for _ in range(rnd.choice((0, 1, 1, 2, 3, 4))):
        op = rnd.randrange(8)
        pos = rnd.randrange(len(data) + 1)
        if op == 0 and data:  # flip a byte
            data[min(pos, len(data) - 1)] = rnd.randrange(256)
        elif op == 1:  # insert an interesting token
            data[pos:pos] = rnd.choice(TOKENS)
        elif op == 2 and data:  # delete a range
            del data[pos:pos + rnd.randrange(1, 12)]
        elif op == 3 and data:  # duplicate a range
            end = min(len(data), pos + rnd.randrange(1, 40))
            data[end:end] = data[pos:end]
        elif op == 4:  # splice another seed
            other = rnd.choice(others)
            cut = rnd.randrange(len(other) + 1)
            data = data[:pos] + bytearray(other[cut:])
        elif op == 5 and data:  # truncate
            data = data[:pos]
        elif op == 6:  # change a digit run
            digits = [i for i, b in enumerate(data) if 48 <= b <= 57]
            if digits:
                i = rnd.choice(digits)
                data[i:i + 1] = str(rnd.choice((0, 1, 9, 99, 65536, 2 ** 40, -1))).encode()
        elif op == 7:  # random bytes
            data[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 8)))
    return bytes(data)


def make_case(rnd, hp):
    seeds = caller_seeds(hp)
    caller = rnd.choice(seeds)
    if rnd.random() < 0.75:
        caller = mutate(rnd, caller, seeds)
    splits = sorted(rnd.sample(range(1, max(2, len(caller))), k=min(rnd.randrange(0, 3), max(0, len(caller) - 2))))
    resp = rnd.choice(RESPONSE_SEEDS)
    if rnd.random() < 0.6:
        resp = mutate(rnd, resp, RESPONSE_SEEDS)
    cut = sorted(rnd.sample(range(1, max(2, len(resp))), k=min(rnd.randrange(0, 3), max(0, len(resp) - 2))))
    delays = [rnd.choice((0, 0, 0, 0.01, 0.05, SOCKET_TIMEOUT + 0.2)) for _ in range(len(cut) + 1)]
    end = rnd.choice(("keep", "keep", "close", "rst"))
    return {"caller": caller, "caller_splits": splits, "response": resp, "response_cuts": cut,
            "response_delays": delays, "upstream_end": end, "half_close": rnd.random() < 0.2}


# --------------------------------------------------------------------------------------------- upstream

class Lane:
    """One raw upstream (its own port) whose connections answer every request head with the current script."""

    def __init__(self, tls=None):
        self.tls = tls  # an ssl.SSLContext (server side) when the upstream speaks TLS
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.lsock.settimeout(0.2)
        self.hp = f"127.0.0.1:{self.lsock.getsockname()[1]}"
        self.lock = threading.Lock()
        self.case = None
        self.execution = 0
        self.parsed = []  # (execution, target or None for a parse error): every request head the upstream parses
        self.stop = threading.Event()
        self.conns = []
        self.next_id = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                cid = self.next_id
                self.next_id += 1
                self.conns.append(s)
            threading.Thread(target=self._serve, args=(s, cid), daemon=True).start()

    def _serve(self, s, cid):
        s.settimeout(3.0)
        if self.tls is not None:
            try:
                s = self.tls.wrap_socket(s, server_side=True)
            except (ssl.SSLError, OSError):
                s.close()
                return
        pending = b""
        parser = _ReqCounter()  # one parser per connection: bytes are framed as one continuous stream
        broken = False
        try:
            while not self.stop.is_set():
                data = s.recv(65536)
                if not data:
                    return
                with self.lock:
                    execution = self.execution
                    case = self.case
                if not broken:
                    before = len(parser.targets)
                    try:
                        parser.execute(data)
                    except Exception:  # noqa: BLE001 - llhttp refuses the stream from here on
                        broken = True
                    with self.lock:
                        self.parsed += [(execution, t) for t in parser.targets[before:]]
                        if broken:
                            self.parsed.append((execution, None))
                pending += data
                if case is None or b"\r\n\r\n" not in pending:
                    continue
                pending = pending.split(b"\r\n\r\n", 1)[1][:0]  # answer once per head seen (bodies ignored)
                resp = case["response"]
                bounds = [0] + case["response_cuts"] + [len(resp)]
                for i in range(len(bounds) - 1):
                    time.sleep(case["response_delays"][i])
                    s.sendall(resp[bounds[i]:bounds[i + 1]])
                if case["upstream_end"] == "close":
                    return
                if case["upstream_end"] == "rst":
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
        except OSError:
            return
        finally:
            try:
                s.close()
            except OSError:
                pass

    def take(self, execution):
        """(targets the upstream parsed during this execution, number of streams llhttp refused)."""
        with self.lock:
            mine = [t for e, t in self.parsed if e == execution]
            self.parsed = [(e, t) for e, t in self.parsed if e > execution]
        return [t for t in mine if t is not None], sum(1 for t in mine if t is None)

    def close(self):
        self.stop.set()
        self.lsock.close()
        with self.lock:
            for s in self.conns:
                try:
                    s.close()
                except OSError:
                    pass


# ----------------------------------------------------------------------------------------------- berth

class Berth:
    def __init__(self, binary, extra=(), tls_ca=None):
        argv = [binary, "--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                "--header-timeout", f"{int(HEADER_TIMEOUT * 1000)}ms", "--socket-timeout",
                f"{int(SOCKET_TIMEOUT * 1000)}ms", "--connect-timeout", "300ms", "--acquire-timeout", "1s",
                "--caller-idle-timeout", "3s", "--log-level", "error",
                # mutated absolute-form targets produce host names: never let berth resolve them (that would send
                # DNS queries off loopback). Names are denied (403) before resolution; run.sh adds a private netns.
                "--allow", "127.0.0.0/8", *extra]
        if tls_ca:
            conf = os.path.join(OUT, "berth-tls.yaml")
            with open(conf, "w") as f:
                f.write(f"destinations:\n  - match: 127.0.0.0/8\n    tls: {{ca-file: \"{tls_ca}\"}}\n")
            argv += ["--config", conf]
        self.stderr = open(os.path.join(OUT, "berth.stderr"), "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("berth listening"):
            raise SystemExit(f"berth did not start: {line!r}")
        f = dict(p.split("=", 1) for p in line.split()[2:])
        h, _, p = f["proxy"].rpartition(":")
        self.proxy = (h, int(p))
        self.admin = f"http://{f['admin']}"

    def get(self, path, method="GET", timeout=3):
        req = urllib.request.Request(self.admin + path, method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, {}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# ------------------------------------------------------------------------------------------- execution

def run_caller(berth, case):
    """Send the caller bytes; returns (ended, how, response bytes, seconds)."""
    targets, complete, methods, err = parse_requests(case["caller"])
    need = max(1, len(targets))
    head_only = any(m in ("HEAD", "CONNECT") for m in methods) or not targets
    t0 = time.monotonic()
    s = socket.create_connection(berth.proxy, timeout=BOUND)
    got = b""
    rp = _ResCounter()
    rp_err = None
    try:
        data = case["caller"]
        bounds = [0] + case["caller_splits"] + [len(data)]
        for i in range(len(bounds) - 1):
            try:
                s.sendall(data[bounds[i]:bounds[i + 1]])
            except (BrokenPipeError, ConnectionResetError):
                break  # berth answered (400) and closed before the rest; read what it sent
            if i < len(bounds) - 2:
                time.sleep(0.005)
        if case["half_close"]:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:  # berth already closed the connection
                pass
        idle_since = None
        while True:
            left = BOUND - (time.monotonic() - t0)
            if left <= 0:
                return False, "bound", got, time.monotonic() - t0
            s.settimeout(min(left, 0.3 if idle_since else left))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                if idle_since and rp.final_heads >= need:
                    return True, "answered (heads, then quiet)", got, time.monotonic() - t0
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True, "reset", got, time.monotonic() - t0
            if not chunk:
                return True, "closed", got, time.monotonic() - t0
            got += chunk
            if rp_err is None:
                try:
                    rp.execute(chunk)
                except Exception as e:  # noqa: BLE001
                    rp_err = type(e).__name__
            if rp.final_complete >= need:
                return True, "answered", got, time.monotonic() - t0
            if head_only or rp_err or rp.final_heads >= need:
                idle_since = time.monotonic()
    except (ConnectionResetError, BrokenPipeError):
        return True, "reset", got, time.monotonic() - t0
    finally:
        s.close()


def execute(berth, lane, case, execution, stats):
    with lane.lock:
        lane.case = case
        lane.execution = execution
    ended, how, got, secs = run_caller(berth, case)
    violations = []
    if not ended:
        violations.append(f"caller connection neither answered nor closed within {BOUND}s")
    if berth.proc.poll() is not None:
        violations.append(f"berth exited with {berth.proc.returncode}")
        return violations, how
    code, _ = berth.get("/healthz")
    if code != 200:
        violations.append(f"/healthz answered {code}")
    # let the upstream exchange finish, then evict and check the pool settles
    deadline = time.monotonic() + BOUND
    up = None
    while time.monotonic() < deadline:
        berth.get(f"/evict?upstream={lane.hp}", method="POST")
        code, st = berth.get(f"/stats?upstream={lane.hp}")
        up = st.get("upstreams", [None])[0] if code == 200 else None
        if up is None or (up["busy"] == 0 and up["pending"] == 0 and up["connecting"] == 0):
            break
        time.sleep(0.05)
    if up is not None:
        if up["busy"] or up["pending"] or up["connecting"]:
            violations.append(f"/stats not settled after {BOUND}s: busy={up['busy']} pending={up['pending']} "
                              f"connecting={up['connecting']}")
        if up["open"] != up["idle"] + up["busy"] + up["connecting"]:
            violations.append(f"/stats open {up['open']} != idle+busy+connecting")
    time.sleep(0.02)
    with lane.lock:
        lane.case = None
    caller_targets, _, _, caller_err = parse_requests(case["caller"])
    caller_paths = [path_of(t) for t in caller_targets]
    targets, refused = lane.take(execution)
    upstream_paths = [path_of(t) for t in targets]
    upstream_errs = ["llhttp refused the upstream stream"] * refused
    unknown = [p for p in upstream_paths if p not in caller_paths]
    if unknown:
        violations.append(f"upstream parsed request(s) the caller never sent: {unknown} (caller sent {caller_paths})")
    elif any(SMUGGLED_MARK in p for p in upstream_paths) and not any(SMUGGLED_MARK in p for p in caller_paths):
        violations.append("upstream parsed the smuggled request")
    extra = len(upstream_paths) - len(caller_paths)
    if extra > 0 and not unknown:
        stats["replays"] += 1
        retries = (up or {}).get("retries", 0)
        if retries <= stats.get(f"retries-{lane.hp}", 0):
            violations.append(f"upstream parsed {len(upstream_paths)} requests, caller sent {len(caller_paths)} "
                              f"({upstream_paths} vs {caller_paths}) and berth counted no retry")
        stats[f"retries-{lane.hp}"] = retries
    if upstream_errs:
        stats["upstream_bytes_llhttp_rejects"] += 1
        if len(stats["upstream_reject_examples"]) < 5:
            stats["upstream_reject_examples"].append({"caller": case["caller"][:300].decode("latin-1"),
                                                      "llhttp": upstream_errs})
    stats["outcomes"][how] = stats["outcomes"].get(how, 0) + 1
    return violations, how


OUT = os.path.join(HERE, "out")


def main():
    global OUT
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lanes", type=int, default=4)
    ap.add_argument("--max-execs", type=int, default=1_000_000)
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--berth", default=os.environ.get("BERTH_BIN", os.path.join(ROOT, ".build", "release", "berth")))
    ap.add_argument("--replay", help="a violation JSON file: run that one case and print the outcome")
    ap.add_argument("--repeat", type=int, default=1, help="with --replay: run the case up to N times")
    ap.add_argument("--tls", action="store_true", help="upstreams speak TLS; berth originates it")
    args = ap.parse_args()
    OUT = args.out
    os.makedirs(OUT, exist_ok=True)
    server_tls, ca = None, None
    if args.tls:
        sys.path.insert(0, os.path.join(ROOT, "tests", "tls"))
        from tls_pki import PKI  # noqa: E402 - the TLS suite's PKI, made with the openssl tool
        pki = PKI(tempfile.mkdtemp(prefix="berth-fuzz-pki-"))
        server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_tls.load_cert_chain(pki.server, pki.server_key)
        ca = pki.ca
    berth = Berth(args.berth, tls_ca=ca)
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
                path = os.path.join(OUT, f"violation-{args.seed}-{case_seed}.json")
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
    handshakes = berth.get("/stats")[1].get("totals", {}).get("tls") if alive and args.tls else None
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
    with open(os.path.join(OUT, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    for path, v in violations[:20]:
        print(f"VIOLATION {path}: {v}")
    return 1 if violations or not alive else 0


if __name__ == "__main__":
    sys.exit(main())
