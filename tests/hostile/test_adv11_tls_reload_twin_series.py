"""adv11: a reload that changes a destination's TLS settings sends new requests to a new pool, and the old one stayed
(until its idle connections timed out and ten quiet minutes passed) under the same name, `https://HOST:PORT`. So
/metrics exposed every per-upstream series of that name twice, with different values, which Prometheus refuses as
duplicate samples (one of the two dropped at each scrape, so the counter jumps between the two pools' figures), and
/stats, the status page and `berth ctl stats` listed two rows of one name. Now the reload retires a pool its endpoint
no longer routes to: its idle connections close at once (`evicted`), and its entry goes when the last busy one ends,
its counts kept in the totals."""
import re
from collections import Counter

import pytest
import requests

from berthkit import admin, stats
from berthkit.tls_origin import TLSOrigin
from berthkit.tls_pki import PKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


def _twins(b):
    """Sample lines of /metrics whose name and labels appear more than once."""
    text = admin(b, "GET", "/metrics?upstreams=all").text
    keys = [line.rsplit(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")]
    return [k for k, n in Counter(keys).items() if n > 1]


def _names(b):
    return [u["upstream"] for u in stats(b)["upstreams"]]


def _destination(name, extra=""):
    return f"destinations:\n  - match: 127.0.0.1\n    tls: {{server-name: {name}{extra}}}\n"


def test_a_reload_of_tls_settings_leaves_one_pool_of_the_name(berth, tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text(_destination("one.example"))
    b = berth("--config", str(config))
    url = "http://127.0.0.1:9/"
    proxies = {"http": b.proxy_url}
    assert requests.get(url, proxies=proxies, timeout=10).status_code == 502
    b.reload(config, _destination("two.example"))
    assert requests.get(url, proxies=proxies, timeout=10).status_code == 502
    assert _names(b) == ["https://127.0.0.1:9"], _names(b)
    assert _twins(b) == []
    assert stats(b)["totals"]["requests"] == 2


def test_the_old_pools_idle_connection_closes_at_the_reload(berth, tmp_path, pki):
    origin = TLSOrigin(pki.server, pki.server_key)
    try:
        config = tmp_path / "berth.yaml"
        trust = f", ca-file: \"{pki.ca}\""
        config.write_text(_destination("localhost", trust))
        b = berth("--config", str(config))
        url = f"http://127.0.0.1:{origin.hostport.rsplit(':', 1)[1]}/"
        proxies = {"http": b.proxy_url}
        assert requests.get(url, proxies=proxies, timeout=10).status_code == 200
        name = f"https://127.0.0.1:{origin.hostport.rsplit(':', 1)[1]}"
        assert [u["idle"] for u in stats(b)["upstreams"] if u["upstream"] == name] == [1]
        b.reload(config, _destination("localhost", trust + ", min-version: \"1.3\""))
        assert requests.get(url, proxies=proxies, timeout=10).status_code == 200
        assert _names(b) == [name], _names(b)
        assert _twins(b) == []
        totals = stats(b)["totals"]
        assert totals["requests"] == 2 and totals["connections"]["closed"]["evicted"] == 1, totals
    finally:
        origin.close()
