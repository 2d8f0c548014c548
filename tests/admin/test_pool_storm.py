"""A short, bounded storm on the pools: pauses, resumes with prewarms, evicts with forget, idle timeouts and origin
closes, with requests in flight on several workers. Any build; scripts/sanitize runs it against ASan's and TSan's,
where a sanitizer report in berth's stderr or a non-zero exit fails it. BERTH_STORM_SECONDS sets its length."""
import os
import random
import threading
import time

import pytest
import requests

from berthkit import Origin, admin, wait_for

SECONDS = float(os.environ.get("BERTH_STORM_SECONDS", "6"))
WORKERS = os.environ.get("BERTH_STORM_WORKERS", "2")
COMMANDS = (
    "/pause?upstream={u}&hold=300ms",
    "/pause?upstream={u}&mode=reject",
    "/resume?upstream={u}",
    "/resume?upstream={u}&prewarm=2",
    "/evict?upstream={u}&forget=true",
    "/evict?upstream={u}&idle_for=1h&forget=true",
    "/evict?upstream={u}&idle_for=0s",
)


@pytest.fixture
def origins():
    keeping = Origin()
    # This one closes a keep-alive connection idle for 0.2 s, as a server's keep-alive timer does.
    closing = Origin()
    closing.RequestHandlerClass = type("IdleClosingHandler", (closing.RequestHandlerClass,), {"timeout": 0.2})
    yield [keeping, closing]
    keeping.close()
    closing.close()


def test_a_storm_of_pool_commands_with_requests_in_flight(berth, origins):
    b = berth("--workers", WORKERS, "--idle-timeout", "300ms", "--socket-timeout", "5s", "--acquire-timeout", "1s",
              "--max-per-route", "6")
    deadline = time.monotonic() + SECONDS
    statuses, failures = {}, []
    lock = threading.Lock()

    def caller(seed):
        rnd = random.Random(seed)
        session = requests.Session()
        while time.monotonic() < deadline:
            o = rnd.choice(origins)
            path = rnd.choice(["/", "/sleep/0.05", "/bytes/20000"])
            try:
                r = session.get(f"http://{o.hostport}{path}", proxies={"http": b.proxy_url}, timeout=10)
                with lock:
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            except requests.RequestException as e:
                with lock:
                    failures.append(repr(e))
                session = requests.Session()

    callers = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(4)]
    for t in callers:
        t.start()
    rnd = random.Random(7)
    commands = 0
    while time.monotonic() < deadline:
        u = rnd.choice(origins).hostport
        r = admin(b, "POST", rnd.choice(COMMANDS).format(u=u))
        assert r.status_code == 200, r.text
        commands += 1
        time.sleep(rnd.uniform(0.0, 0.08))
    for o in origins:
        assert admin(b, "POST", f"/resume?upstream={o.hostport}").status_code == 200
    for t in callers:
        t.join(20)
        assert not t.is_alive(), "a caller is stuck"
    assert statuses.get(200, 0) > 0, (statuses, failures[:5])
    # Answers other than 200 are the pauses' (503) and held requests' timeouts; connection errors are not expected.
    assert set(statuses) <= {200, 502, 503, 504}, statuses
    assert not failures, failures[:5]
    # Once every caller has its answer, no connection stays busy and no request stays queued.
    wait_for(lambda: (lambda t: t["busy"] == 0 and t["pending"] == 0)(admin(b, "GET", "/stats").json()["totals"]),
             what="every connection given back")
    assert b.stop() == 0, b.stderr_text()[-4000:]
    assert "Sanitizer" not in b.stderr_text(), b.stderr_text()[-4000:]
    print(f"storm: {commands} commands, answers {statuses}")
