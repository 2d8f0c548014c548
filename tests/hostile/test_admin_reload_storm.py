"""SIGHUP storms while requests run: the configuration file swapped between valid ones (limits and profiles that
change), invalid YAML, binary bytes, a FIFO, a symlink loop, a directory and nothing at all. Every request is
answered, berth stays up, and the admin says what is in force after the last reload."""
import os
import random
import signal
import threading
import time

import requests

from berthkit import admin, stats, wait_for

VALID = [
    "max-per-route: {n}\nmax-pending: 500\n",
    "profile: cross-region\nmax-per-route: {n}\n",
    "profile: same-region-failover\nmax-total: {t}\nmax-per-route: {n}\nidle-timeout: 2s\n",
]
BROKEN = [
    "max-per-route: [\n",
    "max-per-route: -1\n",
    "max-per-route: 99999999999999999999999\n",
    "nonsense-key: 1\n",
    "\x00\xff\xfe binary \x01\x02\n",
    "max-per-route: 5\n" * 5000,
]


def swap(path, rng, i):
    """Puts the i-th hostile or valid thing at `path` (atomically where a real deploy would)."""
    tmp = f"{path}.new"
    for p in (tmp,):
        if os.path.lexists(p):
            os.unlink(p) if not os.path.isdir(p) or os.path.islink(p) else os.rmdir(p)
    kind = i % 8
    if kind in (0, 1, 2):
        with open(tmp, "w") as f:
            f.write(VALID[kind].format(n=rng.randint(1, 50), t=rng.randint(60, 300)))
    elif kind == 3:
        with open(tmp, "wb") as f:
            f.write(rng.choice(BROKEN).encode("latin-1"))
    elif kind == 4:
        os.mkfifo(tmp)
    elif kind == 5:
        os.symlink(path, tmp)  # renamed onto `path`, a link to itself: a loop
    elif kind == 6:
        os.mkdir(tmp)
    else:
        tmp = None  # the file is removed
    if os.path.lexists(path):
        os.unlink(path) if not os.path.isdir(path) or os.path.islink(path) else os.rmdir(path)
    if tmp is not None:
        os.rename(tmp, path)


def test_a_sighup_storm_with_hostile_files_loses_no_request(berth, origin, tmp_path):
    config = str(tmp_path / "berth.yaml")
    with open(config, "w") as f:
        f.write("max-per-route: 4\n")
    b = berth("--config", config)
    url = f"http://127.0.0.1:{origin.server_address[1]}/r"
    failures, done = [], [0]
    stop = threading.Event()

    def traffic():
        s = requests.Session()
        while not stop.is_set() and done[0] < 3000:
            try:
                r = s.get(url, proxies={"http": b.proxy_url}, timeout=10)
                if r.status_code != 200:
                    failures.append((r.status_code, r.headers.get("Berth-Error")))
            except requests.RequestException as e:
                failures.append(repr(e))
            done[0] += 1

    threads = [threading.Thread(target=traffic) for _ in range(4)]
    for t in threads:
        t.start()
    rng = random.Random(7)
    deadline = time.monotonic() + 20
    hups = 0
    try:
        while time.monotonic() < deadline and hups < 400:
            swap(config, rng, hups)
            b.proc.send_signal(signal.SIGHUP)
            hups += 1
            time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert b.proc.poll() is None, b.stderr_text()[-2000:]
    assert not failures, failures[:10]
    assert done[0] > 200, done[0]
    # The last word: a known valid file, then one more SIGHUP; the admin answers with it in force.
    with open(config + ".new", "w") as f:
        f.write("max-per-route: 17\n")
    if os.path.lexists(config):
        os.unlink(config) if not os.path.isdir(config) or os.path.islink(config) else os.rmdir(config)
    os.rename(config + ".new", config)
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: any(u["limits"]["max_per_route"] == 17 for u in stats(b)["upstreams"]), timeout=10,
             what="max-per-route 17 in force")
    assert admin(b, "GET", "/healthz").status_code == 200
    err = b.stderr_text()
    assert "reload failed" in err, err[-1000:]
