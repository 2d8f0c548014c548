"""The admin listener's Host check against DNS rebinding: IP literals, localhost and admin-hosts only; 421 for the rest."""
import json
import os
import subprocess
import tempfile

import pytest

from berthkit import BERTH_BIN
from hostile_wire import exchange, status_of


def request(method, path, host, version="1.1"):
    head = f"{method} {path} HTTP/{version}\r\n"
    if host is not None:
        head += f"Host: {host}\r\n"
    return (head + "Connection: close\r\n\r\n").encode()


REBOUND = [
    ("GET", "/stats"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/"), ("GET", "/ui"),
    ("HEAD", "/stats"), ("POST", "/pause?upstream=127.0.0.1:9"), ("POST", "/evict"), ("GET", "/no-such-endpoint"),
]


@pytest.mark.parametrize("method,path", REBOUND)
def test_a_rebound_host_gets_421_for_every_method_and_path(berth, method, path):
    b = berth()
    raw = exchange(b.admin, request(method, path, f"rebind.example:{b.admin[1]}"))
    assert status_of(raw) == 421, raw[:400]
    if method != "HEAD":
        body = json.loads(raw.split(b"\r\n\r\n", 1)[1])
        assert body["status"] == 421 and "rebind.example" in body["error"] and "admin-hosts" in body["error"], body
    # Nothing changed: the upstream a rebound page tried to pause is not paused.
    stats = exchange(b.admin, request("GET", "/stats", "127.0.0.1"))
    assert status_of(stats) == 200
    assert b'"paused":true' not in stats.replace(b" ", b"")


def test_ip_literals_localhost_and_listed_names_are_answered(berth):
    b = berth("--admin-hosts", "berth.test", "Scrape.Example.")
    port = b.admin[1]
    for host in (f"127.0.0.1:{port}", "127.0.0.1", "10.1.2.3:9901", "[::1]", f"[::1]:{port}", "localhost",
                 f"LocalHost:{port}", "localhost.:1", "berth.test", f"berth.test:{port}", "scrape.example",
                 "SCRAPE.example.:80"):
        raw = exchange(b.admin, request("GET", "/healthz", host))
        assert status_of(raw) == 200, (host, raw[:300])
    for host in ("evil.berth.test", "berth.test.evil", "localhost.evil", "127.0.0.1.nip.io", "0x7f.1"):
        raw = exchange(b.admin, request("GET", "/healthz", host))
        assert status_of(raw) == 421, (host, raw[:300])


def test_a_missing_host_is_400_on_http11_and_answered_on_http10(berth):
    b = berth()
    assert status_of(exchange(b.admin, request("GET", "/healthz", None, "1.1"))) == 400
    assert status_of(exchange(b.admin, request("GET", "/healthz", None, "1.0"))) == 200
    assert status_of(exchange(b.admin, request("GET", "/healthz", "rebind.example", "1.0"))) == 421
    two = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: rebind.example\r\nConnection: close\r\n\r\n"
    assert status_of(exchange(b.admin, two)) == 400


def test_a_unix_socket_admin_skips_the_host_check(berth):
    d = tempfile.mkdtemp(prefix="berth-admin-host-")
    path = os.path.join(d, "admin.sock")
    b = berth("--admin", f"unix:{path}")
    raw = exchange(b.admin, request("GET", "/healthz", "%2Frun%2Fberth%2Fadmin.sock"))
    assert status_of(raw) == 200, raw[:300]


def test_admin_hosts_refuses_what_is_not_a_host_name():
    out = subprocess.run([BERTH_BIN, "--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin",
                          "127.0.0.1:0", "--admin-hosts", "bad_name!"], capture_output=True, text=True, timeout=20)
    assert out.returncode != 0
    assert "admin-hosts" in out.stderr and "bad_name!" in out.stderr and "not a host name" in out.stderr, out.stderr
