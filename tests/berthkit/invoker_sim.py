"""The invoker simulation of issue 13, shared by tests/e2e/test_e2e_invoker.py (short) and bench/invoker (long).

N action containers are Node.js keep-alive servers (tests/e2e/upstreams/node_action.js, keepAliveTimeout shorter
than the freezes and exact, without Node's hidden extra second), each in a cgroup v2 of its own. Each container gets
serial activations, POST /run with a JSON body, in bursts: after the burst and a pause-grace the container is frozen
as runc freezes it for `docker pause` (write 1 to cgroup.freeze, wait for `frozen 1` in cgroup.events), and it is
thawed (0, then `frozen 0`) for the first activation of its next burst, as OpenWhisk's invoker does.

Modes (MODES): a) berth, the invoker calls /pause before each freeze and /resume after each thaw; b) berth with the
freezer watch (POST /watch once per container) and no calls; c) berth with --replay unread and no calls; d) berth
with its defaults and no calls: the control; e) no berth, one new connection per activation, as OpenWhisk does
today. Each mode reports failed activations, p50/p99 latency of all activations and of the first after each thaw,
and upstream connections opened per activation (counted by the containers themselves).

Every loop is bounded in count, every wait in time; every process and cgroup made is removed by its maker. The
invokers run in processes started with multiprocessing's "spawn": a script that calls run_mode must guard its main
code with `if __name__ == "__main__":`, or each invoker process would run the script again.
"""
import json
import multiprocessing
import os
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass

from .admin import admin
from .cgroup_helpers import CgroupTree
from .raw_client import RawClient, get_req
from .upstream_process import UPSTREAMS, UpstreamProcess

MODES = {
    "a": "berth, /pause before each freeze and /resume after each thaw",
    "b": "berth, freezer watch (POST /watch), no calls",
    "c": "berth --replay unread, no calls",
    "d": "berth defaults, no calls (control)",
    "e": "no berth, a new connection per activation",
}

# Mode (c) needs issue 13 part 2; a berth without it refuses the flag, and the mode is skipped with this reason.
REPLAY_FLAGS = ("--replay", "unread", "--replay-buffer", "64KiB")


@dataclass
class Params:
    containers: int = 2
    cycles: int = 8              # bursts per container; each is followed by a freeze, so freezes = containers * cycles
    burst: int = 5               # serial activations per burst
    gap_s: float = 0.005         # between activations of one burst
    pause_grace_s: float = 0.05  # idle time after a burst before the freeze (OpenWhisk's pause grace)
    frozen_s: float = 0.3        # how long each freeze lasts; longer than the keep-alive timeout
    keepalive_ms: int = 200      # the containers' keepAliveTimeout
    request_timeout_s: float = 10.0
    prewarm: int = 0             # mode (a): /resume?prewarm=N
    berth_flags: tuple = ("--socket-timeout", "5s", "--acquire-timeout", "5s")

    def check(self):
        assert self.frozen_s * 1000 > self.keepalive_ms, "the freezes must outlast the keep-alive timeout"
        assert self.pause_grace_s * 1000 < self.keepalive_ms, "the pause grace must be shorter than the keep-alive timeout"
        assert 1 <= self.containers <= 16 and 1 <= self.cycles <= 10_000 and 1 <= self.burst <= 1000


@dataclass
class Activation:
    container: int
    cycle: int
    index: int
    latency_s: float
    error: str = None            # None when the activation succeeded
    connection: int = None       # the container's number for the connection it came on
    accepted: int = None         # connections the container had accepted when it answered
    round: int = 0               # which run of the mode (bench/invoker interleaves the modes in rounds)

    @property
    def first_after_thaw(self):
        return self.index == 0 and self.cycle > 0


def percentile(values, q):
    """The q-quantile (0..1) of values by the nearest-rank rule; None for no values."""
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * len(s) + 0.5)) - 1))]


def action_container(keepalive_ms):
    return UpstreamProcess(["node", os.path.join(UPSTREAMS, "node_action.js"), str(keepalive_ms)],
                           f"node action keepAliveTimeout={keepalive_ms}ms")


class DirectClient:
    """Mode (e): a new TCP connection per activation straight to the container, closed after the answer."""

    def __init__(self, hostport, timeout):
        host, port = hostport.rsplit(":", 1)
        self.addr, self.hostport, self.timeout = (host, int(port)), hostport, timeout

    def run(self, body):
        c = RawClient(self.addr, self.timeout)
        try:
            head = f"POST /run HTTP/1.1\r\nHost: {self.hostport}\r\nContent-Type: application/json\r\nConnection: close\r\n"
            return c.request(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body, "POST")
        finally:
            c.close()

    def close(self):
        pass


class ProxyClient:
    """Modes (a)-(d): the invoker's keep-alive connection to berth, remade only when berth closes it."""

    def __init__(self, proxy, hostport, timeout):
        self.proxy, self.hostport, self.timeout, self.conn = proxy, hostport, timeout, None

    def run(self, body):
        if self.conn is None:
            self.conn = RawClient(self.proxy, self.timeout)
        try:
            msg = self.conn.request(get_req(self.hostport, "/run", extra=b"Content-Type: application/json\r\n",
                                            method="POST", body=body), "POST")
        except Exception:
            self.close()
            raise
        if (msg.header("Connection") or "").lower() == "close":
            self.close()
        return msg

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _activate(client, container, cycle, index, records):
    body = json.dumps({"value": f"{container}-{cycle}-{index}", "params": {"n": index}}).encode()
    t0 = time.perf_counter()
    a = Activation(container, cycle, index, 0.0)
    try:
        msg = client.run(body)
        a.latency_s = time.perf_counter() - t0
        answer = json.loads(msg.body) if msg.status == 200 else None
        if msg.status != 200:
            a.error = msg.header("Berth-Error") or f"status {msg.status}"
        elif answer.get("echo") != f"{container}-{cycle}-{index}":
            a.error = f"wrong answer {msg.body[:80]!r}"
        else:
            a.connection, a.accepted = answer["connection"], answer["accepted"]
    except Exception as e:  # noqa: BLE001 - every failure is an outcome to count
        a.latency_s = time.perf_counter() - t0
        a.error = f"no answer: {type(e).__name__}"
    records.append(a)


@dataclass
class Endpoint:
    """What an invoker process needs of berth: its two listeners (admin() takes anything with `admin`)."""
    proxy: tuple
    admin: tuple


def _invoker(mode, i, hostport, cgroup, berth, p, records, problems):
    """One container's life: bursts, pause-grace, freeze, frozen time, thaw; /pause and /resume in mode (a)."""
    try:
        client = DirectClient(hostport, p.request_timeout_s) if mode == "e" else \
            ProxyClient(berth.proxy, hostport, p.request_timeout_s)
        # Kept out of the figures (cycle -1), as the invoker's /init would be: a fresh container's first request is
        # a cold start. Its connection count is where the container's count of connections opened starts.
        _activate(client, i, -1, 0, records)
        for cycle in range(p.cycles):
            if cycle > 0:
                cgroup.thaw()
                if mode == "a":
                    q = f"&prewarm={p.prewarm}" if p.prewarm else ""
                    status, body = admin(berth, "POST", f"/resume?upstream={hostport}{q}")
                    assert status == 200, body
            for k in range(p.burst):
                _activate(client, i, cycle, k, records)
                if k + 1 < p.burst:
                    time.sleep(p.gap_s)
            time.sleep(p.pause_grace_s)
            if mode == "a":
                status, body = admin(berth, "POST", f"/pause?upstream={hostport}")
                assert status == 200, body
            cgroup.freeze()
            time.sleep(p.frozen_s)
        cgroup.thaw()
        if mode == "a":
            status, body = admin(berth, "POST", f"/resume?upstream={hostport}")
            assert status == 200, body
        client.close()
    except Exception as e:  # noqa: BLE001 - reported, and the mode fails
        problems.append(f"container {i}: {type(e).__name__}: {e}")


def _invoker_process(mode, i, hostport, cgroup, berth, p, conn):
    """An invoker in a process of its own, so no invoker waits on another's share of the interpreter lock;
    sends (records, problems) back when its container's last cycle is done."""
    records, problems = [], []
    _invoker(mode, i, hostport, cgroup, berth, p, records, problems)
    conn.send((records, problems))
    conn.close()


def summarize(mode, records, freezes, seconds, berth_stats=None):
    """The figures one mode reports (and the table prints). The warm-up activations (cycle -1) are left out; the
    connections each container accepted after its warm-up are the upstream connections the activations opened."""
    warmups = {(a.round, a.container): a.accepted or 0 for a in records if a.cycle < 0}
    records = [a for a in records if a.cycle >= 0]
    failed = [a for a in records if a.error]
    firsts = [a for a in records if a.first_after_thaw]
    accepted = {}
    for a in records:
        if a.accepted is not None:
            # (round, container): each round has containers of its own.
            key = (a.round, a.container)
            accepted[key] = max(accepted.get(key, 0), a.accepted - warmups.get(key, 0))
    ms = lambda v: None if v is None else round(v * 1000, 3)  # noqa: E731
    out = {
        "mode": mode, "what": MODES[mode], "activations": len(records), "freezes": freezes,
        "failed": len(failed), "failures_by_cause": {},
        "p50_ms": ms(percentile([a.latency_s for a in records], 0.50)),
        "p99_ms": ms(percentile([a.latency_s for a in records], 0.99)),
        "first_after_thaw_p50_ms": ms(percentile([a.latency_s for a in firsts], 0.50)),
        "first_after_thaw_p99_ms": ms(percentile([a.latency_s for a in firsts], 0.99)),
        "first_after_thaw_failed": sum(1 for a in firsts if a.error),
        "connections_per_activation": round(sum(accepted.values()) / max(1, len(records)), 3),
        "p90_ms": ms(percentile([a.latency_s for a in records], 0.90)),
        "p999_ms": ms(percentile([a.latency_s for a in records], 0.999)),
        "seconds": round(seconds, 1),
    }
    for a in failed:
        out["failures_by_cause"][a.error] = out["failures_by_cause"].get(a.error, 0) + 1
    if berth_stats is not None:
        out["berth"] = berth_stats
    return out


def _berth_figures(berth, hostports):
    """What berth counted for the containers: closes by reason, retries, failures, pauses."""
    status, doc = admin(berth, "GET", "/stats")
    assert status == 200, doc
    ups = [u for u in doc["upstreams"] if u["upstream"] in hostports]
    closed = {}
    for u in ups:
        for reason, n in u["connections"]["closed"].items():
            if n:
                closed[reason] = closed.get(reason, 0) + n
    return {
        "opened": sum(u["connections"]["opened"] for u in ups),
        "reused": sum(u["connections"]["reused"] for u in ups),
        "retries": sum(u["retries"] for u in ups),
        "closed": closed,
        "pauses": {k: sum(u["pauses"][k] for u in ups) for k in ("api", "watch", "both")},
        "resumes": sum(u["resumes"] for u in ups),
    }


def replay_refusal(berth_bin):
    """None when `berth_bin` takes REPLAY_FLAGS, else what it said (check-config reads flags as berth does)."""
    # A regular file with no settings: berth refuses /dev/null (a character device) as a configuration file, which
    # made every binary look as if it refused the flags, and mode c was always skipped (adv12).
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as empty:
        empty.write("{}\n")
        empty.flush()
        p = subprocess.run([berth_bin, "check-config", empty.name, "--profile", "same-region", *REPLAY_FLAGS],
                           capture_output=True, text=True, timeout=30)
    if p.returncode == 0:
        return None
    return (p.stderr.strip().splitlines() or [f"exit status {p.returncode}"])[0]


def run_mode(mode, p, cgroup_root, start_berth, berth_bin):
    """Runs one mode and returns its figures, or {"mode", "what", "skipped": reason}. `start_berth(*flags)` starts
    a berth, which its caller stops."""
    p.check()
    berth = None
    if mode == "c":
        refusal = replay_refusal(berth_bin)
        if refusal:
            return {"mode": mode, "what": MODES[mode],
                    "skipped": f"berth refuses {' '.join(REPLAY_FLAGS)} (issue 13 part 2 is not in this build): {refusal}"}
    if mode != "e":
        berth = start_berth(*p.berth_flags, *(REPLAY_FLAGS if mode == "c" else ()))
    tree = CgroupTree(cgroup_root, 2)
    ups, procs = [], []
    ctx = multiprocessing.get_context("spawn")
    endpoint = Endpoint(berth.proxy, berth.admin) if berth else None
    try:
        for i in range(p.containers):
            up = action_container(p.keepalive_ms)
            ups.append(up)
            cg = tree.make(f"action{i}")
            cg.add(up.pid)
            if mode == "b":
                status, body = admin(berth, "POST", f"/watch?upstream={up.hostport}&cgroup={cg.path}")
                assert status == 200 and body["cgroup_version"] == 2, body
            receive, send = ctx.Pipe(duplex=False)
            procs.append((ctx.Process(target=_invoker_process, args=(mode, i, up.hostport, cg, endpoint, p, send),
                                      daemon=True), receive))
        t0 = time.monotonic()
        for proc, _ in procs:
            proc.start()
        budget = p.cycles * (p.burst * (p.gap_s + 0.2) + p.pause_grace_s + p.frozen_s + 1.0) + 60
        records, problems = [], []
        for proc, receive in procs:
            left = max(1.0, budget - (time.monotonic() - t0))
            assert receive.poll(left), f"mode {mode}: an invoker did not finish within {budget:.0f}s"
            try:
                got, trouble = receive.recv()
            except EOFError:
                proc.join(10)
                raise AssertionError(f"mode {mode}: an invoker process ended without its results (exit {proc.exitcode})")
            records += got
            problems += trouble
            proc.join(10)
        seconds = time.monotonic() - t0
        assert not problems, problems
        figures = _berth_figures(berth, {u.hostport for u in ups}) if berth else None
        out = summarize(mode, records, p.containers * p.cycles, seconds, figures)
        out["records"] = records  # for callers that merge rounds; not JSON
        return out
    finally:
        for proc, _ in procs:
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        for up in ups:
            up.stop()
        tree.close()


def combine(mode, parts):
    """One mode's figures from several rounds (run_mode results): records pooled, berth's counts added."""
    records = []
    for n, part in enumerate(parts):
        for a in part["records"]:
            a.round = n
            records.append(a)
    figures = None
    if parts[0].get("berth") is not None:
        figures = {"opened": 0, "reused": 0, "retries": 0, "closed": {}, "pauses": {"api": 0, "watch": 0, "both": 0}, "resumes": 0}
        for part in parts:
            b = part["berth"]
            for k in ("opened", "reused", "retries", "resumes"):
                figures[k] += b[k]
            for k, v in b["closed"].items():
                figures["closed"][k] = figures["closed"].get(k, 0) + v
            for k, v in b["pauses"].items():
                figures["pauses"][k] += v
    out = summarize(mode, records, sum(part["freezes"] for part in parts), sum(part["seconds"] for part in parts), figures)
    out["rounds"] = len(parts)
    return out


def table(results):
    """A Markdown table of run_mode results, one row per mode."""
    head = ("| mode | activations | freezes | failed | p50 ms | p99 ms | first after thaw p50 / p99 ms "
            "| upstream connections per activation |\n|---|---|---|---|---|---|---|---|\n")
    rows = []
    for r in results:
        if "skipped" in r:
            rows.append(f"| ({r['mode']}) {r['what']} | skipped: {r['skipped']} | | | | | | |")
            continue
        rows.append(f"| ({r['mode']}) {r['what']} | {r['activations']} | {r['freezes']} | {r['failed']} | {r['p50_ms']} "
                    f"| {r['p99_ms']} | {r['first_after_thaw_p50_ms']} / {r['first_after_thaw_p99_ms']} "
                    f"| {r['connections_per_activation']} |")
    return head + "\n".join(rows) + "\n"


def params_dict(p):
    """The parameters as JSON-ready values, for the result file."""
    return asdict(p)
