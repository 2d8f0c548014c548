"""Review 12: /pause, /pause?drain=, /resume and /evict of one upstream raced on 2 and 4 workers (items 85 and 87).

Each worker keeps its own table and a refused /pause takes itself back on the workers it changed, so commands that
interleave could leave a worker paused that no /resume reaches, or a caller held with no one to release it. With
--max-upstreams 2 and a paused entry filling half of each table, the refusals and take-backs happen in the storm.
Afterwards one /resume must leave every worker serving the upstream, and one /pause must hold it on every worker.
"""
import random
import threading
import time

import pytest

from berthkit import Origin, RawClient, admin, get_req, upstream_stats

FILLER = "10.9.0.1:80"


def _storm(b, up, other, seconds, seed):
    rnd = random.Random(seed)
    stop = time.monotonic() + seconds
    answers = []
    lock = threading.Lock()

    def commander():
        while time.monotonic() < stop:
            path = rnd.choice([
                f"/pause?upstream={up}", f"/pause?upstream={up}&drain=200ms", f"/pause?upstream={up}&mode=reject",
                f"/resume?upstream={up}", f"/evict?upstream={up}", f"/evict?upstream={up}&forget=true",
                f"/evict?upstream={other}&forget=true", f"/pause?upstream={up}&hold=300ms",
            ])
            r = admin(b, "POST", path, timeout=10)
            with lock:
                answers.append((path, r.status))
            assert r.status in (200, 409, 503), (path, r.status, r.text)

    def caller(target):
        while time.monotonic() < stop:
            c = RawClient(b.proxy, timeout=10)
            try:
                c.sendall(get_req(target, "/sleep/0.05"))
                r = c.read_response()
                assert r.status in (200, 503), (target, r.status, r.header("Berth-Error"))
            finally:
                c.close()

    errors = []

    def guarded(work, *args):
        def run():
            try:
                work(*args)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
        return threading.Thread(target=run, daemon=True)

    runners = [guarded(commander) for _ in range(3)] + [guarded(caller, t) for t in (up, up, other)]
    for t in runners:
        t.start()
    for t in runners:
        t.join(seconds + 20)
    assert not errors, errors[:3]
    return answers


@pytest.mark.parametrize("workers", [2, 4])
def test_after_a_storm_of_commands_one_resume_frees_every_worker_and_one_pause_holds_every_worker(berth, origin, workers):
    b = berth("--workers", str(workers), "--max-upstreams", "2", "--socket-timeout", "10s", "--acquire-timeout", "2s",
              "--connect-timeout", "5s")
    other = Origin()
    try:
        assert admin(b, "POST", f"/pause?upstream={FILLER}").status == 200
        answers = _storm(b, origin.hostport, other.hostport, 5, seed=workers)
        # Both kinds happened: pauses that took effect, and pauses refused and taken back (a worker with no room).
        pauses = [s for p, s in answers if p.startswith("/pause")]
        assert 200 in pauses and 503 in pauses, answers[:20]
        # Quiet: the other upstream's entries go, so every worker has room for the origin's.
        r = admin(b, "POST", f"/evict?upstream={other.hostport}&forget=true")
        assert r.status == 200, r.text
        r = admin(b, "POST", f"/resume?upstream={origin.hostport}")
        assert r.status == 200 and r.json()["state"] == "active", r.text
        # Every worker serves it: callers land on the workers at random, and none is held (acquire timeout 2 s).
        for _ in range(8 * workers):
            c = RawClient(b.proxy, timeout=5)
            c.sendall(get_req(origin.hostport, "/ok"))
            t0 = time.monotonic()
            r = c.read_response()
            c.close()
            assert r.status == 200 and time.monotonic() - t0 < 1.5, (r.status, r.header("Berth-Error"))
        entry = upstream_stats(b, origin.hostport)
        assert entry is not None and entry["state"] == "active", entry
        # And one pause holds it on every worker, until one resume releases them all.
        r = admin(b, "POST", f"/pause?upstream={origin.hostport}&hold=20s")
        assert r.status == 200, r.text
        held = []
        for _ in range(4 * workers):
            c = RawClient(b.proxy, timeout=0.4)
            c.sendall(get_req(origin.hostport, "/ok"))
            try:
                r = c.read_response()
            except TimeoutError:
                held.append(c)
                continue
            c.close()
            raise AssertionError(f"a caller was answered while the upstream was paused: {r.status}")
        assert admin(b, "POST", f"/resume?upstream={origin.hostport}").status == 200
        for c in held:
            c.sock.settimeout(5)
            r = c.read_response()
            c.close()
            assert r.status == 200, r.status
    finally:
        other.close()
