"""The status page at N known upstreams (default 10,000): what berth spends answering it, and what the page spends
showing it.

- GET / (the page) and GET /stats (the data it polls), client-side wall time over a warm keep-alive connection
- in headless Chromium, from the page's own clock (window.berthStatus.timing): one refresh split into fetch, parse,
  ingest (history, filter, sort) and render (one page of rows), then a search, a page turn and a re-sort
- the stall: the worst latency of proxied requests (one keep-alive caller, one at a time, to an nginx upstream on the
  same worker) at rest, while the page's own fetch (`/stats?limit=50...`) repeats, and while whole /stats documents
  are fetched back to back by curl (another process, so that its parsing never delays the caller's clock)

Upstreams are made known with POST /pause (paused, no connections), as bench/memory does for /stats. Started by
bench/status-page; see docs/performance.md.
"""

import argparse
import datetime
import socket
import json
import os
import statistics
import subprocess
import sys
import time

import procs
from berthkit.chromium import Chromium
from memory import start_berth
from procs import log


def ms(seconds):
    return round(seconds * 1000, 3)


def measure_admin(admin, runs, page_path):
    admin.request("GET", "/healthz")
    page = [ms(admin.request("GET", "/")[2]) for _ in range(runs * 4)]
    status, body, _ = admin.request("GET", "/")
    assert status == 200 and body.startswith(b"<!doctype html>"), status
    data = [ms(admin.request("GET", "/stats")[2]) for _ in range(runs)]
    full_bytes = len(admin.request("GET", "/stats")[1])
    fetch = [ms(admin.request("GET", page_path)[2]) for _ in range(runs * 4)]
    status, body, _ = admin.request("GET", page_path)
    assert status == 200, (status, body[:200])
    return {"page_ms": page, "page_median_ms": statistics.median(page), "page_max_ms": max(page), "page_bytes": len(body),
            "stats_ms": data, "stats_median_ms": statistics.median(data), "stats_bytes": full_bytes,
            "page_fetch_path": page_path, "page_fetch_ms": fetch, "page_fetch_median_ms": statistics.median(fetch),
            "page_fetch_max_ms": max(fetch), "page_fetch_bytes": len(body)}


PAGE_FETCH = "/stats?limit=50&offset=0&sort=name"


def probe(port, target, seconds):
    """Sequential proxied GETs on one keep-alive connection for `seconds`: each one's latency in ms."""
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


def raise_priority(pids):
    """berth, nginx and the caller ahead of other work on the machine (nice -10, when allowed), so that what the
    caller waits for is berth's loop rather than a neighbour's build; curl stays at the normal priority."""
    try:
        for pid in pids:
            for tid in os.listdir(f"/proc/{pid}/task"):
                os.setpriority(os.PRIO_PROCESS, int(tid), -10)
                with open(f"/proc/{pid}/task/{tid}/children") as f:  # nginx's worker
                    for child in f.read().split():
                        os.setpriority(os.PRIO_PROCESS, int(child), -10)
        return True
    except PermissionError:
        return False


def measure_stall(work, proxy_port, admin_port, up_port, seconds, page_path, pids=()):
    """The worst proxied latency at rest, under the page's fetch, and under whole /stats documents. On a shared
    machine the worst at rest is itself several ms, so the counts of requests over 5 and 10 ms are given too: a loop
    held for tens of ms per answer shows there, scheduling noise hardly does."""
    target = f"127.0.0.1:{up_port}"
    raised = raise_priority([*pids, os.getpid()])
    probe(proxy_port, target, 0.5)  # warm: the pool's connection is open
    out = {"at_rest": summary(probe(proxy_port, target, seconds))}
    for name, path, pause in (("page_fetch", page_path, 0.1), ("full_stats", "/stats", 0)):
        url = f"http://127.0.0.1:{admin_port}{path}"
        loop = subprocess.Popen(["sh", "-c", f"while :; do curl -s -o /dev/null '{url}'; sleep {pause}; done"],
                                start_new_session=True, preexec_fn=lambda: os.setpriority(os.PRIO_PROCESS, 0, 0))
        try:
            time.sleep(0.3)
            out[name] = summary(probe(proxy_port, target, seconds))
        finally:
            os.killpg(loop.pid, 9)
            loop.wait()
        out[name]["path"] = path
    if raised:
        os.setpriority(os.PRIO_PROCESS, 0, 0)  # curl and the browser after this at the normal priority
    out["priority_raised"] = raised
    return out


def measure_browser(work, admin_port, n, runs):
    page = Chromium(os.path.join(work, "chromium"))
    try:
        page.navigate(f"http://127.0.0.1:{admin_port}/")
        t0 = time.monotonic()
        # The page shows one page of rows; `all` is every upstream berth knows (`upstreams` for a berth before paging).
        while (page.evaluate("window.berthStatus.timing && (window.berthStatus.timing.all || window.berthStatus.timing.upstreams)") or 0) < n:
            if time.monotonic() - t0 > 120:
                raise RuntimeError("the page never showed every upstream")
            time.sleep(0.1)
        # One refresh at a time, on demand, so each timing is one whole refresh.
        page.evaluate("(() => { const s = document.getElementById('interval'); s.value = '0'; s.dispatchEvent(new Event('change')); })()")
        time.sleep(1)
        refreshes = []
        for _ in range(runs):
            page.evaluate("(async () => { await refresh(); })()")
            refreshes.append(page.evaluate("window.berthStatus.timing"))
        phases = {k: statistics.median(r[k] for r in refreshes) for k in ("fetch", "parse", "ingest", "render", "total")}

        # Each action asks berth for the page it needs and shows it: timed until the table is rendered.
        def timed(js):
            return page.evaluate(f"(async () => {{ const t = performance.now(); {js}; return performance.now() - t; }})()")
        search = [timed("S.query = '127.0.0.1:2500'; await refetch()") for _ in range(runs)]
        shown = page.evaluate("S.doc.matched")
        clear = [timed("S.query = ''; await refetch()") for _ in range(runs)]
        turn = [timed("await goTo(S.page + 1)") for _ in range(runs)]
        resort = [timed("S.sort = 'errors'; await refetch(); S.sort = 'name'; await refetch()") for _ in range(runs)]
        return {"refreshes_ms": refreshes, "refresh_median_ms": phases, "search_ms": search, "search_matches": shown,
                "search_median_ms": statistics.median(search), "clear_search_median_ms": statistics.median(clear),
                "page_turn_median_ms": statistics.median(turn), "sort_twice_median_ms": statistics.median(resort),
                "chromium": procs.tool_version(["chromium", "--version"])}
    finally:
        page.close()


def main(argv):
    ap = argparse.ArgumentParser(prog="bench/status-page", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstreams", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(procs.BENCH_DIR, "results"))
    ap.add_argument("--stall-seconds", type=float, default=10, help="length of each phase of the stall measurement")
    ap.add_argument("--page-path", default=PAGE_FETCH, help="the page's own fetch (/stats for a berth without paging)")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    args = ap.parse_args(argv)
    work = procs.tmpdir("berth-status-page-")
    result = {"machine": procs.machine(),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "berth_bin": os.environ["BERTH_BIN"], "settings": {"upstreams": args.upstreams, "runs": args.runs}}
    try:
        up_port = procs.free_port()
        nginx = procs.start_upstream_nginx(work, up_port)
        p, proxy_port, admin = start_berth(work, "berth-page")
        t0 = time.monotonic()
        for i in range(args.upstreams):
            admin.json("POST", f"/pause?upstream=127.0.0.1:{20000 + i}")
        log(f"{args.upstreams} upstreams made known in {time.monotonic() - t0:.1f}s")
        result["admin"] = measure_admin(admin, args.runs, args.page_path)
        log(f"admin: {json.dumps({k: v for k, v in result['admin'].items() if 'median' in k or 'bytes' in k})}")
        result["stall"] = measure_stall(work, proxy_port, admin.port, up_port, args.stall_seconds, args.page_path,
                                        (p.pid, nginx.pid))
        log(f"stall: {json.dumps(result['stall'])}")
        if not args.no_browser:
            result["browser"] = measure_browser(work, admin.port, args.upstreams, args.runs)
            log(f"browser: {json.dumps(result['browser']['refresh_median_ms'])}")
        result["rss_kib"] = procs.rss_kib(p.pid)
    except BaseException:
        procs.stop_all()
        log(f"failed; logs kept in {work}")
        raise
    procs.finish(work, args.out, "status-page", result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
