"""adv11: the admin names a TLS pool `https://HOST:PORT` (/stats, /metrics, the status page, `berth ctl stats`), and
refused that name in `upstream=` with a 400. The status page's Pause, Resume and Evict buttons send the row's name, so
on a TLS upstream every one of them failed ("upstream must be HOST:PORT ... (got https://...)"), and an operator who
copied the name from `berth ctl stats` into `berth ctl pause` got the same. Now `upstream=https://HOST:PORT` names the
endpoint HOST:PORT, as `upstream=HOST:PORT` does (the commands act on every pool of the endpoint)."""
import subprocess
import urllib.parse

import pytest

from berthkit import BERTH_BIN, admin, stats
from hostile_wire import connect, header_of, read_response, status_of

# A port nothing listens on: a TLS request that gets past the pause is refused (502), one held by it is 503.
PORT = 9
TLS_NAME = f"https://127.0.0.1:{PORT}"


def _get_tls(b):
    c = connect(b.proxy)
    try:
        c.sendall(f"GET https://127.0.0.1:{PORT}/ HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nConnection: close\r\n\r\n".encode())
        return read_response(c)[0]
    finally:
        c.close()


@pytest.fixture
def with_tls_entry(berth):
    b = berth()
    raw = _get_tls(b)
    assert status_of(raw) == 502, raw
    assert TLS_NAME in [u["upstream"] for u in stats(b)["upstreams"]]
    return b


def _q(name):
    return urllib.parse.quote(name, safe="")


def test_commands_take_the_name_stats_gives_a_tls_pool(with_tls_entry):
    b = with_tls_entry
    answer = admin(b, "POST", f"/pause?upstream={_q(TLS_NAME)}&mode=reject")
    assert answer.status == 200, answer
    assert answer.json()["upstream"] == f"127.0.0.1:{PORT}", answer
    raw = _get_tls(b)
    assert status_of(raw) == 503 and header_of(raw, "Berth-Error") == "upstream-paused", raw
    for path in (f"/resume?upstream={_q(TLS_NAME)}", f"/evict?upstream={_q(TLS_NAME)}"):
        answer = admin(b, "POST", path)
        assert answer.status == 200, (path, answer)
    answer = admin(b, "GET", f"/stats?upstream={_q(TLS_NAME)}")
    assert answer.status == 200, answer
    assert TLS_NAME in [u["upstream"] for u in answer.json()["upstreams"]]


def test_ctl_takes_the_name_its_stats_table_prints(with_tls_entry):
    b = with_tls_entry
    host, port = b.admin
    p = subprocess.run([BERTH_BIN, "ctl", "--admin", f"{host}:{port}", "pause", TLS_NAME], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.startswith(f"127.0.0.1:{PORT} paused"), p.stdout


@pytest.mark.parametrize("name", [f"http://127.0.0.1:{PORT}", f"https://127.0.0.1:{PORT}/", "https://", "https:/x:1"])
def test_other_schemes_and_urls_are_still_refused(berth, name):
    b = berth()
    answer = admin(b, "POST", f"/pause?upstream={_q(name)}")
    assert answer.status == 400, answer
