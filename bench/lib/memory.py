"""Memory and admin-latency figures for berth (loopback only; every wait is bounded).

- RSS growth per idle pooled upstream connection at N (default 10,000)
- RSS growth per idle caller connection at N (connected only, then after one request each)
- POST /pause latency for an upstream with 1,000 idle pooled connections
- GET /stats, and GET /metrics for each --metrics-upstreams choice (none, active, all), with 10,000 known upstreams

berth's open-file limit is that of this shell (`ulimit -n`); with a limit L, a pooled-connection run needs
about N + 2 * chunk descriptors in berth, so the pool is built in chunks spread over several upstream ports.

Started by bench/memory; see docs/performance.md.
"""

import argparse
import asyncio
import datetime
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import procs
from berthkit import AdminConnection
from procs import log

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


# --------------------------------------------------------------------------- gate upstream (child process)

async def gate_server(ports, hold_timeout):
    """Keep-alive HTTP/1.1 server. GET /hold?n=K answers once K /hold requests wait on that port (or after
    hold_timeout); every other request is answered at once. Requests have no body."""
    waiting = {p: [] for p in ports}

    def make(port):
        async def handle(reader, writer):
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    target = head.split(b" ", 2)[1]
                    if b"/hold" in target:
                        n = int(target.rsplit(b"n=", 1)[1].split(b"&")[0]) if b"n=" in target else 1
                        fut = asyncio.get_running_loop().create_future()
                        waiting[port].append(fut)
                        if len(waiting[port]) >= n:
                            for f in waiting[port]:
                                if not f.done():
                                    f.set_result(None)
                            waiting[port].clear()
                        try:
                            await asyncio.wait_for(fut, hold_timeout)
                        except asyncio.TimeoutError:
                            pass
                    writer.write(RESPONSE)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
                pass
            finally:
                writer.close()
        return handle

    servers = [await asyncio.start_server(make(p), "127.0.0.1", p, backlog=4096) for p in ports]
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


# --------------------------------------------------------------------------- clients

async def open_callers(port, n, batch=200, timeout=60):
    """Open n TCP connections to berth's proxy port, batch at a time."""
    conns = []
    deadline = time.monotonic() + timeout
    while len(conns) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"opened only {len(conns)} of {n} caller connections in {timeout}s")
        k = min(batch, n - len(conns))
        conns += await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in range(k)))
    return conns


async def one_request(conn, up_port, path, timeout):
    reader, writer = conn
    writer.write(f"GET http://127.0.0.1:{up_port}{path} HTTP/1.1\r\nHost: 127.0.0.1:{up_port}\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"unexpected response: {head[:200]!r}")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await asyncio.wait_for(reader.readexactly(length), timeout)


async def close_all(conns):
    for _, w in conns:
        w.close()
    for _, w in conns:
        try:
            await w.wait_closed()
        except Exception:
            pass


async def pool_chunk(proxy_port, up_port, k, timeout=60):
    """k concurrent requests held at the upstream until all k arrived -> k new pooled connections."""
    conns = await open_callers(proxy_port, k)
    await asyncio.wait_for(asyncio.gather(*(one_request(c, up_port, f"/hold?n={k}", timeout) for c in conns)),
                           timeout)
    await close_all(conns)


# --------------------------------------------------------------------------- admin

class Admin:
    """berthkit's admin connection, timed: each request on a warm keep-alive connection, tried twice."""

    def __init__(self, address):
        self.port = address[1]
        self.conn = AdminConnection(address, timeout=30)

    def request(self, method, path):
        """(status, body bytes, seconds taken)."""
        for attempt in (1, 2):
            try:
                t0 = time.perf_counter()
                r = self.conn.request(method, path)
                return r.status, r.content, time.perf_counter() - t0
            except (http.client.HTTPException, ConnectionError):
                if attempt == 2:
                    raise

    def json(self, method, path):
        status, body, dt = self.request(method, path)
        if status != 200:
            raise RuntimeError(f"{method} {path}: {status} {body[:200]!r}")
        return json.loads(body), dt

    def upstream(self, port):
        doc, _ = self.json("GET", f"/stats?upstream=127.0.0.1:{port}")
        for u in doc.get("upstreams", []):
            if u["upstream"] == f"127.0.0.1:{port}":
                return u
        return {}


# --------------------------------------------------------------------------- berth

def pool_limit():
    """30,000, or what the descriptor limit leaves once berth keeps 2,100 for callers, its admin and itself: berth
    refuses a max-total the limit cannot hold (issue 23), and these machines cap `ulimit -n` at 20,000."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return str(min(30000, soft - 2100)) if soft != resource.RLIM_INFINITY else "30000"


def start_berth(work, name, extra=()):
    limit = pool_limit()
    b = procs.start_berth(["--profile", "max-timeout", "--listen", "127.0.0.1:0",
                           "--admin", "127.0.0.1:0", "--workers", "1", "--log-level", "warning",
                           "--max-total", limit, "--max-per-route", limit, "--max-pending", "30000",
                           # 10,000 paused upstreams and then the ones used: above the default bound (10,000).
                           "--max-upstreams", "30000",
                           "--idle-timeout", "1h", "--caller-idle-timeout", "1h", "--max-connection-age", "1h",
                           "--header-timeout", "1h", *extra], work, name)
    return b.proc, b.proxy[1], Admin(b.admin)


def settle(pid, seconds=0.5):
    time.sleep(seconds)
    return procs.rss_kib(pid)


def rss_delta(a, b, n):
    return {k: round((b[k] - a[k]) * 1024 / n, 1) for k in ("VmRSS", "RssAnon") if k in a and k in b}


# --------------------------------------------------------------------------- measurements

def measure_pool(work, gate_ports, n, chunk):
    """RSS growth per idle pooled upstream connection, and /pause with 1,000 idle connections."""
    p, port, admin = start_berth(work, "berth-pool")
    warm_port, pause_port, build_ports = gate_ports[0], gate_ports[1], gate_ports[2:]
    out = {}
    # Warm-up: one chunk through its own upstream, kept pooled: malloc and libevent reach the high-water mark
    # of `chunk` concurrent callers and upstream connections before the baseline.
    asyncio.run(pool_chunk(port, warm_port, chunk))
    base = settle(p.pid)
    base_open = admin.json("GET", "/stats")[0]["totals"]["open"]
    log(f"pool: baseline RSS {base['VmRSS']} KiB with {base_open} pooled connections")
    built, i = 0, 0
    t0 = time.monotonic()
    while built < n:
        k = min(chunk, n - built)
        asyncio.run(pool_chunk(port, build_ports[i % len(build_ports)], k))
        built += k
        i += 1
    after = settle(p.pid, 1.0)
    totals = admin.json("GET", "/stats")[0]["totals"]
    grown = totals["idle"] - base_open
    log(f"pool: {grown} more idle pooled connections in {time.monotonic() - t0:.1f}s, RSS {after['VmRSS']} KiB")
    out["pooled_upstream"] = {
        "n": grown, "chunk": chunk, "rss_before_kib": base, "rss_after_kib": after,
        "bytes_per_connection": rss_delta(base, after, grown),
        "idle_total": totals["idle"], "open_total": totals["open"],
    }
    # /pause with 1,000 idle connections on one upstream (3 times: pause, resume, refill).
    reps = []
    for rep in range(3):
        asyncio.run(pool_chunk(port, pause_port, 1000))
        idle = admin.upstream(pause_port).get("idle")
        admin.request("GET", "/healthz")  # keep-alive connection is warm before timing
        doc, dt = admin.json("POST", f"/pause?upstream=127.0.0.1:{pause_port}")
        reps.append({"idle_before": idle, "closed_idle": doc.get("closed_idle"), "ms": round(dt * 1000, 3)})
        admin.json("POST", f"/resume?upstream=127.0.0.1:{pause_port}")
    log(f"pause: {reps}")
    out["pause_1000_idle"] = {"runs": reps, "median_ms": statistics.median(r["ms"] for r in reps),
                              "note": "client-side wall time of one POST over a warm keep-alive admin connection, "
                                      f"with {totals['idle']} other idle pooled connections in the process"}
    procs.stop(p)
    return out


async def _caller_requests(conns, up_port, batch):
    for i in range(0, len(conns), batch):
        await asyncio.gather(*(one_request(c, up_port, "/", 30) for c in conns[i:i + batch]))


def measure_callers(work, gate_ports, n):
    p, port, admin = start_berth(work, "berth-callers")
    up = gate_ports[0]

    async def go():
        warm = await open_callers(port, 200)
        await _caller_requests(warm, up, 50)
        await close_all(warm)
        base = settle(p.pid)
        conns = await open_callers(port, n)
        await asyncio.sleep(0.5)
        idle = settle(p.pid, 1.0)
        callers = admin.json("GET", "/stats")[0]["totals"].get("callers")
        await _caller_requests(conns, up, 100)
        served = settle(p.pid, 1.0)
        st = admin.json("GET", "/stats")[0]["totals"]
        await close_all(conns)
        return base, idle, served, callers, st

    base, idle, served, callers, st = asyncio.run(go())
    log(f"callers: RSS {base['VmRSS']} -> {idle['VmRSS']} (connected) -> {served['VmRSS']} KiB (after a request)")
    procs.stop(p)
    return {"idle_callers": {
        "n": n, "callers_reported": callers, "rss_before_kib": base, "rss_connected_kib": idle,
        "rss_after_one_request_kib": served,
        "bytes_per_connection_connected": rss_delta(base, idle, n),
        "bytes_per_connection_after_one_request": rss_delta(base, served, n),
        "pooled_upstream_connections_after": st.get("open"),
        "note": "after one request each, a handful of pooled upstream connections (<=100) are also held",
    }}


def _timed(admin, path, reps):
    """Client-side wall time (ms) of `reps` GETs of `path` over one warm keep-alive connection, and the answer's size."""
    runs, size = [], 0
    for _ in range(reps):
        status, body, dt = admin.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
        runs.append(round(dt * 1000, 2))
        size = len(body)
    return {"ms": runs, "median_ms": statistics.median(runs), "bytes": size}


def measure_stats(work, n_upstreams, n_used):
    """GET /stats and GET /metrics (each --metrics-upstreams choice, through ?upstreams=) with n_upstreams known
    upstreams: paused and never used, the way an orchestrator that pauses ahead of use leaves them, plus n_used that
    each carried one request in the last minutes (to closed ports: a connect-refused 502 each)."""
    p, port, admin = start_berth(work, "berth-stats")
    t0 = time.monotonic()
    for i in range(n_upstreams):
        admin.json("POST", f"/pause?upstream=127.0.0.1:{20000 + i}")
    used_ports = procs.free_ports(n_used)

    async def use_each():
        conns = await open_callers(port, n_used)
        for (reader, writer), up in zip(conns, used_ports):
            writer.write(f"GET http://127.0.0.1:{up}/ HTTP/1.1\r\nHost: 127.0.0.1:{up}\r\n\r\n".encode())
        for reader, _ in conns:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        await close_all(conns)

    asyncio.run(use_each())
    made = time.monotonic() - t0
    known = admin.json("GET", "/stats")[0]["totals"]["upstreams"]
    admin.request("GET", "/healthz")  # keep-alive connection is warm before timing
    st = _timed(admin, "/stats", 5)
    metrics = {mode: _timed(admin, f"/metrics?upstreams={mode}", 5 if mode != "all" else 3)
               for mode in ("none", "active", "all")}
    one = [round(admin.request("GET", f"/stats?upstream=127.0.0.1:{20000 + n_upstreams // 2}")[2] * 1000, 3)
           for _ in range(5)]
    rss = procs.rss_kib(p.pid)
    log(f"stats: {known} upstreams, GET /stats {st['ms']} ms ({st['bytes']} bytes)")
    for mode, m in metrics.items():
        log(f"metrics ?upstreams={mode}: {m['ms']} ms ({m['bytes']} bytes)")
    procs.stop(p)
    return {"stats_10k_upstreams": {
        "upstreams": known, "used_upstreams": n_used, "created_in_s": round(made, 2), "stats_ms": st["ms"],
        "stats_median_ms": st["median_ms"], "stats_bytes": st["bytes"],
        # The default (active), under the names earlier runs used.
        "metrics_ms": metrics["active"]["ms"], "metrics_median_ms": metrics["active"]["median_ms"],
        "metrics_bytes": metrics["active"]["bytes"],
        "metrics_by_upstreams": metrics,
        "stats_one_upstream_ms": one, "rss_kib": rss,
        "note": f"{n_upstreams} upstreams made known with POST /pause?upstream=127.0.0.1:PORT (paused, never used), "
                f"then {n_used} other upstreams that carried one request each (connect-refused)",
    }}


def main(argv):
    ap = argparse.ArgumentParser(prog="bench/memory", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="idle connections to hold (default 10000)")
    ap.add_argument("--chunk", type=int, default=2000, help="concurrent requests per pool-building step")
    ap.add_argument("--upstreams", type=int, default=10000, help="known upstreams for the /stats timing")
    ap.add_argument("--used", type=int, default=100, help="of which, upstreams that carried a request (listed by active)")
    ap.add_argument("--only", default="pool,callers,stats", help="comma-separated subset")
    ap.add_argument("--quick", action="store_true", help="smoke: n=1000, chunk=500, 1000 upstreams")
    ap.add_argument("--out", default=os.path.join(procs.BENCH_DIR, "results"))
    ap.add_argument("--gate", nargs="*", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.gate:
        asyncio.run(gate_server(args.gate, 60))
        return 0
    if args.quick:
        args.n, args.chunk, args.upstreams, args.used = 1000, 500, 1000, 20
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.n + 2 * args.chunk + 3000
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < need:
        ap.error(f"ulimit -n is {soft}; --n {args.n} with --chunk {args.chunk} needs about {need}")
    only = set(args.only.split(","))
    work = procs.tmpdir("berth-memory-")
    ports = procs.free_ports(2 + max(1, args.n // args.chunk + 1))
    result = {"machine": procs.machine(),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "berth_bin": os.environ["BERTH_BIN"], "nofile_limit": soft,
              "settings": {"n": args.n, "chunk": args.chunk, "upstreams": args.upstreams, "used": args.used}}
    try:
        gate = procs.start([sys.executable, os.path.abspath(__file__), "--gate", *map(str, ports)],
                           stdout=subprocess.PIPE, stderr=open(os.path.join(work, "gate.stderr"), "w"))
        if gate.stdout.readline().strip() != b"ready":
            raise RuntimeError("gate upstream did not start")
        if "callers" in only:
            result.update(measure_callers(work, ports, args.n))
        if "pool" in only:
            result.update(measure_pool(work, ports, args.n, args.chunk))
        if "stats" in only:
            result.update(measure_stats(work, args.upstreams, args.used))
    except BaseException:
        procs.stop_all()
        log(f"failed; logs kept in {work}")
        raise
    procs.finish(work, args.out, "memory", result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
