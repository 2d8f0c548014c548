"""A burst of SIGHUPs is one reload per turn of the loop, not one per signal: libevent counts every delivery and
called the reload that many times in a row, each reading every file again (~20 ms with the system trust store), so
200 HUPs in 0.2 s held every connection of worker 0 for seconds. The last file written before the last HUP is in
force at the end, and no reload leaks a descriptor."""
import os
import signal
import time

import requests

from berthkit import stats, wait_for

HUPS = 200


def _write(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.rename(path + ".new", path)


def _reloads(b):
    err = b.stderr_text()
    return err.count("configuration reloaded") + err.count("reload failed")


def test_a_burst_of_sighups_coalesces_and_ends_with_the_last_valid_file(berth, origin, tmp_path):
    config = str(tmp_path / "berth.yaml")
    _write(config, "max-per-route: 4\n")
    b = berth("--config", config)
    url = f"http://127.0.0.1:{origin.server_address[1]}/r"
    assert requests.get(url, proxies={"http": b.proxy_url}, timeout=10).status_code == 200
    time.sleep(0.2)  # the first caller closed
    fds_before = len(os.listdir(f"/proc/{b.proc.pid}/fd"))
    for i in range(HUPS):
        # Valid and invalid files alternate; the last one written is valid.
        _write(config, f"max-per-route: {1 + i % 40}\n" if i % 2 else "max-per-route: [\n")
        os.kill(b.proc.pid, signal.SIGHUP)
        time.sleep(0.001)
    last = 1 + (HUPS - 1) % 40
    wait_for(lambda: any(u["limits"]["max_per_route"] == last for u in stats(b)["upstreams"]), timeout=60,
             what=f"max-per-route {last} in force")
    settled = _reloads(b)
    wait_for(lambda: _reloads(b) == settled, timeout=5, what="no reload left to run")
    assert requests.get(url, proxies={"http": b.proxy_url}, timeout=10).status_code == 200
    # A reload of this file takes milliseconds (the default TLS context reads the trust store), far more than the
    # 1 ms between signals: the ones that came while a reload ran are one reload, not one each.
    assert settled < HUPS // 2, f"{settled} reloads for {HUPS} SIGHUPs"
    # The last caller's close may not be read yet: its descriptor goes within moments, a leaked one never does.
    wait_for(lambda: len(os.listdir(f"/proc/{b.proc.pid}/fd")) <= fds_before, timeout=5, what="no descriptor more")
    assert b.proc.poll() is None
