"""The stall of bench/status-page: the worst latency of a proxied request while the admin listener answers the
status page, beside berth's own account of how long admin work held its loop (`admin_loop_hold_ms` in /stats).

Each phase gets a berth of its own (10,000 upstreams made known with POST /pause, as in bench/memory), so that
berth's longest admin hold, read after the phase, is that phase's (or, if it did not grow, at most the baseline
read before the phase). The page's fetch comes from one keep-alive connection in a separate process at nice 19
(the real page polls over one keep-alive browser connection), never a process spawned per fetch: a `curl` every
0.1 s competed with berth, nginx and the probe for the two cores.
"""

import json
import os
import subprocess
import sys
import time

from procs import log

# One keep-alive connection fetching `path` every `pause` seconds (0: back to back) for `seconds`; prints how many
# fetches and their median and worst wall time in ms.
FETCHER = r"""
import http.client, json, statistics, sys, time
host, port, path, pause, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
c = http.client.HTTPConnection(host, port, timeout=60)
times = []
end = time.monotonic() + seconds
while time.monotonic() < end:
    t = time.perf_counter()
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    assert r.status == 200, r.status
    times.append((time.perf_counter() - t) * 1000)
    if pause:
        time.sleep(pause)
print(json.dumps({"fetches": len(times), "median_ms": round(statistics.median(times), 3) if times else None,
                  "max_ms": round(max(times), 3) if times else None, "bytes": len(body) if times else 0}))
"""


def probe(port, target, seconds):
    """Sequential proxied GETs on one keep-alive connection for `seconds`: each one's latency in ms."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = f"GET http://{target}/b2 HTTP/1.1\r\nHost: {target}\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n".encode()
    out = []
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end and len(out) < 200000:
            t0 = time.perf_counter()
            s.sendall(req)
            got = b""
            while not (b"\r\n\r\n" in got and got.endswith(b"ok")):
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError("berth closed the probe connection")
                got += chunk
            out.append((time.perf_counter() - t0) * 1000)
    finally:
        s.close()
    return out


def summary(lat):
    lat = sorted(lat)
    return {"requests": len(lat), "p50_ms": round(lat[len(lat) // 2], 3), "p99_ms": round(lat[int(len(lat) * 0.99)], 3),
            "p999_ms": round(lat[int(len(lat) * 0.999)], 3), "max_ms": round(lat[-1], 3),
            "over_5ms": sum(1 for x in lat if x > 5), "over_10ms": sum(1 for x in lat if x > 10)}


def set_priority(pids, nice, realtime=False):
    """Every thread of `pids` (and their children: nginx's worker) at `nice`, when allowed; with `realtime`, also
    SCHED_RR (the kernel still leaves 5% of each second to everything else), else SCHED_OTHER."""
    policy, param = (os.SCHED_RR, os.sched_param(10)) if realtime else (os.SCHED_OTHER, os.sched_param(0))
    try:
        for pid in pids:
            for tid in os.listdir(f"/proc/{pid}/task"):
                ids = [int(tid)]
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    ids += [int(c) for c in f.read().split()]
                for i in ids:
                    os.setpriority(os.PRIO_PROCESS, i, nice)
                    os.sched_setscheduler(i, policy, param)
        return True
    except PermissionError:
        return False


def holds(admin):
    """berth's own account of admin holds of its loop so far: `admin_loop_hold_ms` and `admin_loop_cpu_ms` from
    /stats?limit=0 (totals only: a sliced walk, its own holds ~0.5 ms at most, counted in the next reading)."""
    doc, _ = admin.json("GET", "/stats?limit=0")
    t = doc["totals"]
    return {"wall": t["admin_loop_hold_ms"], "cpu": t["admin_loop_cpu_ms"]}


def hold_delta(before, after):
    """What a phase added: how many admin callbacks held the loop, and the longest of them (wall and thread CPU)
    when it exceeds the longest before the phase; else only a bound, `at_most_ms`."""
    out = {"callbacks": after["wall"]["count"] - before["wall"]["count"], "p99_ms_since_start": after["wall"]["p99"]}
    for k in ("wall", "cpu"):
        b, a = before[k]["max"] or 0, after[k]["max"] or 0
        out[f"longest_{k}_ms"] = a if a > b else None
        out[f"longest_{k}_at_most_ms"] = a
    return out


def measure_stall(fresh_berth, seconds, page_path, realtime=False):
    """Per phase, on a fresh berth: the probe's latencies and berth's longest admin hold. `fresh_berth(ready)` gives
    (proxy port, Admin, target, pids) with its upstreams made known, calling `ready(pids)` before it makes them known
    (so that the holds of that work, the baseline, are not stretched by the machine either). berth, nginx and the probe run at nice -10, and
    with `realtime` under SCHED_RR, ahead of every other process on the machine: what the probe then waits for is
    berth's loop, not the neighbours (the fetcher stays at nice 19, SCHED_OTHER). Not for whole /stats back to back:
    berth is then busy all the time, and the kernel's real-time throttling stopped it for ~50 ms a second (seen as
    one 50 ms hold with 1.7 ms of CPU), so that phase stays at nice -10."""
    out = {}
    phases = (("at_rest", None, 0, realtime), ("page_fetch", page_path, 0.1, realtime), ("full_stats", "/stats", 0, False))
    for name, path, pause, rt in phases:
        raised = []
        proxy_port, admin, target, pids = fresh_berth(lambda pids: raised.append(set_priority([*pids, os.getpid()], -10, rt)))
        raised = raised[0]
        probe(proxy_port, target, 0.5)  # warm: the pool's connection is open
        before = holds(admin)
        fetcher = None
        if path:
            fetcher = subprocess.Popen([sys.executable, "-c", FETCHER, "127.0.0.1", str(admin.port), path, str(pause),
                                        str(seconds + 0.5)], stdout=subprocess.PIPE, text=True,
                                       preexec_fn=lambda: os.setpriority(os.PRIO_PROCESS, 0, 19))
            time.sleep(0.3)
        try:
            out[name] = summary(probe(proxy_port, target, seconds))
        finally:
            if fetcher:
                fetched, _ = fetcher.communicate(timeout=120)
        if fetcher:
            out[name]["path"] = path
            out[name]["fetcher"] = json.loads(fetched)
        after = holds(admin)
        out[name]["berth_admin_hold"] = hold_delta(before, after)
        out[name]["priority_raised"] = raised
        out[name]["realtime"] = rt
        set_priority([*pids, os.getpid()], 0)  # nginx serves the next phases and the browser at the normal priority
        log(f"stall {name}: {json.dumps(out[name])}")
    return out
