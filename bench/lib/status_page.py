"""The status page at N known upstreams (default 10,000): what berth spends answering it, and what the page spends
showing it.

- GET / (the page) and GET /stats (the data it polls), client-side wall time over a warm keep-alive connection
- in headless Chromium, from the page's own clock (window.berthStatus.timing): one refresh split into fetch, parse,
  ingest (history, filter, sort) and render (one page of rows), then a search, a page turn and a re-sort
- the stall (loop_stall.py): the worst latency of proxied requests (one keep-alive caller, one at a time, to an
  nginx upstream on the same worker) at rest, while the page's own fetch (`/stats?limit=50...`) repeats every 0.1 s,
  and while whole /stats documents are fetched back to back (one keep-alive connection in another process at nice
  19), each beside berth's own longest admin hold of its loop (`admin_loop_hold_ms`, wall and thread CPU)

Upstreams are made known with POST /pause (paused, no connections), as bench/memory does for /stats. Started by
bench/status-page; see docs/performance.md.
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time

import procs
from berthkit.chromium import Chromium
from loop_stall import measure_stall
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
    ap.add_argument("--realtime", action="store_true",
                    help="berth, nginx and the probe under SCHED_RR during the stall, ahead of the rest of the machine")
    ap.add_argument("--name", default="status-page", help="results file name (NAME.json)")
    args = ap.parse_args(argv)
    work = procs.tmpdir("berth-status-page-")
    result = {"machine": procs.machine(), "uptime_at_start": procs.tool_version(["uptime"]),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "berth_bin": os.environ["BERTH_BIN"], "settings": {"upstreams": args.upstreams, "runs": args.runs, "realtime": args.realtime}}
    try:
        up_port = procs.free_port()
        nginx = procs.start_upstream_nginx(work, up_port)
        berths = []

        def fresh_berth(ready=lambda pids: None):
            """A berth of its own, the last one stopped, with `args.upstreams` upstreams made known (`ready` is called
            with berth's and nginx's pids first)."""
            if berths:
                procs.stop(berths[-1], timeout=5)
            p, proxy_port, admin = start_berth(work, f"berth-page-{len(berths)}")
            berths.append(p)
            ready((p.pid, nginx.pid))
            t0 = time.monotonic()
            for i in range(args.upstreams):
                admin.json("POST", f"/pause?upstream=127.0.0.1:{20000 + i}")
            log(f"{args.upstreams} upstreams made known in {time.monotonic() - t0:.1f}s")
            return proxy_port, admin, f"127.0.0.1:{up_port}", (p.pid, nginx.pid)

        result["stall"] = measure_stall(fresh_berth, args.stall_seconds, args.page_path, args.realtime)
        _, admin, _, _ = fresh_berth()
        p = berths[-1]
        result["admin"] = measure_admin(admin, args.runs, args.page_path)
        log(f"admin: {json.dumps({k: v for k, v in result['admin'].items() if 'median' in k or 'bytes' in k})}")
        if not args.no_browser:
            result["browser"] = measure_browser(work, admin.port, args.upstreams, args.runs)
            log(f"browser: {json.dumps(result['browser']['refresh_median_ms'])}")
        result["rss_kib"] = procs.rss_kib(p.pid)
    except BaseException:
        procs.stop_all()
        log(f"failed; logs kept in {work}")
        raise
    procs.finish(work, args.out, args.name, result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
