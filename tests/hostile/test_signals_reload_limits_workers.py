"""With --workers N, /stats and /metrics report an upstream's configured limits, at start and after a SIGHUP, even
when only some workers have seen it: they reported the sum of those workers' shares (11 of `max-per-route: 45` with
4 workers and one caller), so a reload looked as if it had not applied and the status page showed `3 / 11`."""
import os
import signal

import requests

from berthkit import stats, wait_for


def _write(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.rename(path + ".new", path)


def _limits(b, upstream):
    return next(u["limits"] for u in stats(b)["upstreams"] if u["upstream"] == upstream)


def _metric(b, name, upstream):
    text = requests.get(b.admin_url + "/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + "{") and f'upstream="{upstream}"' in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} for {upstream}")


def test_a_pool_on_one_worker_reports_the_configured_limits_before_and_after_a_reload(berth, origin, tmp_path):
    config = str(tmp_path / "berth.yaml")
    _write(config, "max-per-route: 45\nmax-pending: 90\n")
    b = berth("--config", config, "--workers", "4")
    upstream = f"127.0.0.1:{origin.server_address[1]}"
    # One keep-alive caller: one connection, so one worker knows the upstream.
    session = requests.Session()
    assert session.get(f"http://{upstream}/r", proxies={"http": b.proxy_url}, timeout=10).status_code == 200
    assert _limits(b, upstream)["max_per_route"] == 45
    assert _limits(b, upstream)["max_pending"] == 90
    assert _metric(b, "berth_upstream_max_connections", upstream) == 45
    _write(config, "max-per-route: 41\nmax-pending: 7\n")
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "configuration reloaded" in b.stderr_text(), timeout=10, what="the reload")
    wait_for(lambda: _limits(b, upstream)["max_per_route"] == 41, timeout=5, what="max-per-route 41 reported")
    assert _limits(b, upstream)["max_pending"] == 7
    assert _metric(b, "berth_upstream_max_connections", upstream) == 41
    # A destination's own limits, as configured.
    _write(config, f"max-per-route: 41\ndestinations:\n  - {{match: \"{upstream}\", max-per-route: 9, max-pending: 5}}\n")
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: _limits(b, upstream)["max_per_route"] == 9, timeout=10, what="the destination's max-per-route")
    assert _limits(b, upstream)["max_pending"] == 5
