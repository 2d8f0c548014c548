"""Bounded local soak: steady mixed traffic (GET/POST, keep-alive and not, pause/resume cycles, evictions) for
20 s (10 min under BERTH_E2E_LONG=1). RSS and fd count of berth are sampled every second: after warm-up RSS stays
within +-10% of its post-warm-up level, and the fd count returns to its baseline when the traffic stops."""
import random
import statistics
import threading
import time

from berthkit import RawClient, admin, get_req, wait_for
from e2e_helpers import FIGURES, fd_count, rss_kb, scale, send, wait_pools_settled

DURATION = scale(20, 600)
WARMUP = scale(5, 60)


def test_soak_rss_and_fds_stable(berth, upstreams):
    b = berth("--socket-timeout", "2s", "--acquire-timeout", "2s", "--max-per-route", "8")
    node, py = upstreams("node", 5000), upstreams("python", 2.0)
    pid = b.proc.pid
    base_fds = fd_count(pid)
    stop = threading.Event()
    lock = threading.Lock()
    counts = {"requests": 0, "failed": 0, "pauses": 0, "evictions": 0}
    failures = []

    def record(ok, what):
        with lock:
            counts["requests"] += 1
            if not ok:
                counts["failed"] += 1
                if len(failures) < 20:
                    failures.append(what)

    def worker(seed):
        rnd = random.Random(seed)
        c = None
        while not stop.is_set():
            up = rnd.choice((node, py))
            method = rnd.choice(("GET", "POST"))
            body = b"s" * rnd.choice((0, 10, 1000, 20000)) if method == "POST" else b""
            path = f"/soak/{seed}/{rnd.randrange(1000)}"
            if rnd.random() < 0.3:  # a fresh caller connection with Connection: close
                r = send(b.proxy, up.hostport, method, path, body=body, extra=b"Connection: close\r\n", timeout=10,
                         record=False)
                ok = r.status == 200 and (r.body == body if method == "POST" else r.body == f"hello {path}".encode())
                record(ok, repr(r))
            else:  # keep-alive caller connection
                try:
                    if c is None:
                        c = RawClient(b.proxy, timeout=10)
                    m = c.request(get_req(up.hostport, path, method=method, body=body), method)
                    ok = m.status == 200 and (m.body == body if method == "POST" else m.body == f"hello {path}".encode())
                    record(ok, repr(m))
                except Exception as e:  # noqa: BLE001
                    record(False, repr(e))
                    c.close()
                    c = None
                if rnd.random() < 0.05 and c is not None:
                    c.close()
                    c = None
            time.sleep(0.002)
        if c is not None:
            c.close()

    def controller():
        rnd = random.Random(99)
        while not stop.wait(rnd.uniform(0.5, 1.5)):
            up = rnd.choice((node, py))
            if rnd.random() < 0.6:
                admin(b, "POST", f"/pause?upstream={up.hostport}&hold=1500ms")
                stop.wait(0.2)
                admin(b, "POST", f"/resume?upstream={up.hostport}")
                counts["pauses"] += 1
            else:
                admin(b, "POST", f"/evict?upstream={up.hostport}")
                counts["evictions"] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(4)]
    threads.append(threading.Thread(target=controller, daemon=True))
    t0 = time.monotonic()
    for t in threads:
        t.start()
    samples = []  # (t, rss_kb, fds)
    try:
        while time.monotonic() - t0 < DURATION:
            samples.append((time.monotonic() - t0, rss_kb(pid), fd_count(pid)))
            time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    wait_pools_settled(b, node.hostport)
    wait_pools_settled(b, py.hostport)
    admin(b, "POST", "/evict")
    wait_for(lambda: fd_count(pid) <= base_fds, timeout=10, what=f"fd count back to baseline {base_fds}")
    after = [s for s in samples if s[0] >= WARMUP]
    ref = statistics.median(r for _, r, _ in after[:3])
    rss_after = [r for _, r, _ in after]
    drift = [(round(t, 1), r) for t, r, _ in after if abs(r - ref) > 0.10 * ref]
    FIGURES.request(counts["requests"])
    if counts["failed"]:
        FIGURES.failure("soak request failed", counts["failed"])
    FIGURES.fault("soak pause/resume cycle", counts["pauses"])
    FIGURES.fault("soak eviction", counts["evictions"])
    FIGURES.put("soak", {"duration_s": DURATION, "warmup_s": WARMUP, **counts,
                         "rss_kb_reference_after_warmup": int(ref), "rss_kb_min": min(rss_after),
                         "rss_kb_max": max(rss_after), "rss_kb_first_sample": samples[0][1],
                         "fds_baseline": base_fds, "fds_max": max(f for _, _, f in samples), "fds_end": fd_count(pid),
                         "requests_per_second": round(counts["requests"] / DURATION, 1)})
    assert counts["failed"] == 0, f"{counts['failed']} of {counts['requests']} soak requests failed: {failures}"
    assert drift == [], f"RSS left +-10% of {ref} kB after warm-up: {drift}"
    assert fd_count(pid) <= base_fds
