"""TLS to upstreams: verified by default, pooled per destination and TLS settings, resumed after /pause and
/resume, idle closes seen at once, each failure with its own Berth-Error and the details in the log only.

The origins are Python ssl servers (berthkit/tls_origin.py) with certificates made at test time (berthkit/tls_pki.py); berth reaches
them as `localhost:PORT` because the destination's `tls` entry says so (callers send plain http://).
"""
import os
import socket
import ssl
import subprocess
import time

import pytest
import requests

from berthkit import admin, upstream_stats, wait_for, wait_upstream
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BERTH_BIN = os.path.abspath(os.environ.get("BERTH_BIN", os.path.join(ROOT, ".build", "release", "berth")))


def get(b, origin, path="/", session=None):
    """A plain http:// request for the origin, through berth (absolute form, as HTTP_PROXY clients send it)."""
    return (session or requests).get(f"http://{origin.hostport}{path}", proxies={"http": b.proxy_url}, timeout=10)


def tls_stats(b, origin):
    """The TLS pool's /stats entry."""
    return upstream_stats(b, f"https://{origin.hostport}")


def trusted(pki, **more):
    """A destination entry for localhost that trusts the test CA, with any more tls settings."""
    fields = {"ca-file": pki.ca, **more}
    inner = ", ".join(f"{k}: {v}" if isinstance(v, bool) or k == "verify" else f"{k}: \"{v}\"" for k, v in fields.items())
    return f"  - match: localhost\n    tls: {{{inner}}}\n"


# ------------------------------------------------------------------------------------------------ verified and pooled

def test_valid_certificate_is_verified_and_the_connection_pooled(berth_with, tls_origin, pki):
    origin = tls_origin()
    b = berth_with(trusted(pki))
    with requests.Session() as s:
        for i in range(3):
            r = get(b, origin, f"/p{i}", session=s)
            assert r.status_code == 200 and r.text == f"hello /p{i}"
    # A second caller connection gets the same pooled TLS connection: one handshake in all.
    assert get(b, origin, "/again").text == "hello /again"
    assert len(origin.connections) == 1
    conn = origin.connections[0]
    assert conn["requests"] == 4
    assert conn["sni"] == "localhost"
    assert conn["alpn"] == "http/1.1", "berth offers http/1.1 only, so the origin cannot pick h2"
    assert conn["version"] in ("TLSv1.2", "TLSv1.3")
    up = tls_stats(b, origin)
    assert up["tls"] == {"handshakes_full": 1, "handshakes_resumed": 0, "handshake_failures": 0}
    assert up["connections"]["opened"] == 1 and up["connections"]["reused"] == 3
    assert upstream_stats(b, origin.hostport) is None, "no plain pool for a TLS destination"


def test_server_name_setting_is_sent_as_sni_and_checked(berth_with, tls_origin, pki):
    # Reached by its address, the origin is asked for (and checked against) the configured name.
    origin = tls_origin()
    dest = f"  - match: 127.0.0.1\n    tls: {{ca-file: \"{pki.ca}\", server-name: localhost}}\n"
    b = berth_with(dest)
    r = requests.get(f"http://127.0.0.1:{origin.port}/n", proxies={"http": b.proxy_url}, timeout=10)
    assert r.status_code == 200
    assert origin.connections[0]["sni"] == "localhost"


def test_an_ip_address_is_checked_against_the_certificate_without_sni(berth_with, tls_origin, pki):
    origin = tls_origin()
    b = berth_with(f"  - match: 127.0.0.1\n    tls: {{ca-file: \"{pki.ca}\"}}\n")
    r = requests.get(f"http://127.0.0.1:{origin.port}/ip", proxies={"http": b.proxy_url}, timeout=10)
    assert r.status_code == 200
    assert origin.connections[0]["sni"] is None, "RFC 6066: no IP literal in SNI"


def test_the_global_switch_verifies_against_the_system_store(berth, tls_origin, pki):
    # SSL_CERT_FILE is how OpenSSL's system store is pointed elsewhere; the test CA stands in for the public ones.
    origin = tls_origin()
    b = berth("--tls", env={"SSL_CERT_FILE": pki.ca})
    assert get(b, origin, "/g").text == "hello /g"
    assert tls_stats(b, origin)["tls"]["handshakes_full"] == 1


def test_a_destination_can_opt_out_of_the_global_switch(berth_with, tls_origin, pki):
    from berthkit import RawOrigin, keepalive_loop
    plain = RawOrigin(keepalive_loop(lambda conn, msg: conn.respond(200, b"plain")))
    try:
        b = berth_with(f"  - match: 127.0.0.1\n    tls: false\n", "--tls")
        r = requests.get(f"http://{plain.hostport}/", proxies={"http": b.proxy_url}, timeout=10)
        assert r.status_code == 200 and r.text == "plain"
    finally:
        plain.close()


def test_large_bodies_cross_intact_both_ways(berth_with, tls_origin, pki):
    import hashlib
    origin = tls_origin()
    b = berth_with(trusted(pki))
    with requests.Session() as s:
        n = 4 * 1024 * 1024 + 7
        r = get(b, origin, f"/bytes/{n}", session=s)
        assert r.status_code == 200 and len(r.content) == n
        assert r.content == (b"0123456789abcdef" * (n // 16 + 1))[:n]
        upload = bytes(range(256)) * 8192 + b"tail"
        r = s.post(f"http://{origin.hostport}/up", data=upload, proxies={"http": b.proxy_url}, timeout=30)
        assert r.text == f"{len(upload)} {hashlib.sha256(upload).hexdigest()}"
        assert get(b, origin, "/after", session=s).text == "hello /after"
    assert len(origin.connections) == 1, "one pooled connection carried all three"


# ------------------------------------------------------------------------------------------------ refused certificates

@pytest.mark.parametrize("which,cause", [
    ("expired", "tls-untrusted-certificate"),
    ("unknown_ca", "tls-untrusted-certificate"),
    ("wrong_host", "tls-hostname-mismatch"),
])
def test_a_certificate_berth_cannot_trust_is_refused_with_its_own_cause(berth_with, tls_origin, pki, which, cause):
    origin = tls_origin(cert=getattr(pki, which), key=getattr(pki, which + "_key"))
    b = berth_with(trusted(pki))
    r = get(b, origin, "/secret")
    assert r.status_code == 502
    assert r.headers["Berth-Error"] == cause
    assert origin.requests == [], "no request may reach an upstream whose certificate failed"
    # OpenSSL's reason goes to the log, never to the caller.
    reason = {"expired": "certificate has expired", "unknown_ca": "unable to get local issuer certificate",
              "wrong_host": "hostname mismatch"}[which]
    assert reason not in r.text
    wait_for(lambda: reason in b.stderr_text(), what=f"{reason!r} in berth's log")
    up = wait_upstream(b, f"https://{origin.hostport}", lambda u: u["tls"]["handshake_failures"] == 1)
    assert up["failures"][cause] == 1


def test_the_system_store_does_not_trust_a_private_ca(berth_with, tls_origin, pki):
    origin = tls_origin()
    b = berth_with("  - match: localhost\n    tls: true\n")
    r = get(b, origin)
    assert r.status_code == 502 and r.headers["Berth-Error"] == "tls-untrusted-certificate"


def test_verification_off_must_be_written_and_is_warned_about_at_start(berth_with, tls_origin, pki):
    origin = tls_origin(cert=pki.unknown_ca, key=pki.unknown_ca_key)
    b = berth_with("  - match: localhost\n    tls: {verify: false}\n")
    assert get(b, origin, "/v").text == "hello /v"
    line = wait_for(lambda: next((l for l in b.stderr_text().splitlines() if "destinations[0].tls.verify: false" in l), None),
                    what="the warning in berth's log")
    assert "level=warning" in line and "not checked" in line


def test_verification_off_also_skips_the_host_name(berth_with, tls_origin, pki):
    origin = tls_origin(cert=pki.wrong_host, key=pki.wrong_host_key)
    b = berth_with(f"  - match: localhost\n    tls: {{verify: false, ca-file: \"{pki.ca}\"}}\n")
    assert get(b, origin).status_code == 200


# ------------------------------------------------------------------------------------------------ client certificates

def test_a_required_client_certificate_is_sent(berth_with, tls_origin, pki):
    origin = tls_origin(client_ca=pki.client_ca)
    b = berth_with(trusted(pki, **{"client-cert": pki.client, "client-key": pki.client_key}))
    assert get(b, origin, "/m").text == "hello /m"
    assert origin.connections[0]["client"] == "berth-client"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_without_the_required_client_certificate_the_request_fails(berth_with, tls_origin, pki, version):
    origin = tls_origin(client_ca=pki.client_ca, max_version=version)
    b = berth_with(trusted(pki))
    r = get(b, origin)
    assert r.status_code == 502
    assert origin.requests == []
    if version == ssl.TLSVersion.TLSv1_2:
        # TLS 1.2: the server refuses before the handshake ends.
        assert r.headers["Berth-Error"] == "tls-handshake-failed"
        wait_for(lambda: "alert handshake failure" in b.stderr_text(), what="the alert in berth's log")
    else:
        # TLS 1.3: the client's side of the handshake is done before the server judges its certificate, so the
        # refusal (an alert) arrives instead of the response (docs/configuration.md, "TLS to upstreams").
        assert r.headers["Berth-Error"] == "upstream-reset"
    wait_for(lambda: origin.failures and "certificate" in origin.failures[0], what="the origin's refusal")


def test_a_client_certificate_from_another_ca_is_refused(berth_with, tls_origin, pki):
    origin = tls_origin(client_ca=pki.client_ca, max_version=ssl.TLSVersion.TLSv1_2)
    b = berth_with(trusted(pki, **{"client-cert": pki.other_client, "client-key": pki.other_client_key}))
    r = get(b, origin)
    assert r.status_code == 502 and r.headers["Berth-Error"] == "tls-handshake-failed"


def test_pools_are_kept_apart_by_tls_settings(berth_with, tls_origin, pki, tmp_path):
    # The same endpoint under new TLS settings (a reload gives it a client certificate) is a new pool: the
    # connection made without the certificate is never handed to a request that must carry it.
    origin = tls_origin(client_ca=pki.client_ca, client_optional=True)
    b = berth_with(trusted(pki))
    assert get(b, origin, "/before").status_code == 200
    conf = tmp_path / "berth.yaml"
    conf.write_text("destinations:\n" + trusted(pki, **{"client-cert": pki.client, "client-key": pki.client_key}))
    b.proc.send_signal(1)  # SIGHUP
    wait_for(lambda: b.stderr_text().count("configuration reloaded") >= 1, what="the reload")
    assert get(b, origin, "/after").status_code == 200
    assert len(origin.connections) == 2
    assert [c["client"] for c in origin.connections] == [None, "berth-client"]


# ------------------------------------------------------------------------------------------------ versions, timeouts

def test_min_version_13_refuses_a_tls12_origin(berth_with, tls_origin, pki):
    origin = tls_origin(max_version=ssl.TLSVersion.TLSv1_2)
    b = berth_with(trusted(pki, **{"min-version": "1.3"}))
    r = get(b, origin)
    assert r.status_code == 502 and r.headers["Berth-Error"] == "tls-handshake-failed"
    wait_for(lambda: "protocol version" in b.stderr_text(), what="the version alert in berth's log")


def test_a_handshake_that_never_ends_times_out_with_504(berth_with, tls_origin, pki):
    origin = tls_origin(silent=True)
    b = berth_with(trusted(pki), "--tls-handshake-timeout", "300ms", "--socket-timeout", "5s")
    t0 = time.monotonic()
    r = get(b, origin)
    took = time.monotonic() - t0
    assert r.status_code == 504 and r.headers["Berth-Error"] == "tls-handshake-timeout"
    assert 0.25 < took < 3, took
    wait_for(lambda: "TLS handshake timed out" in b.stderr_text(), what="the timeout in berth's log")


def test_the_handshake_timeout_follows_the_connect_timeout(berth_with, tls_origin, pki):
    origin = tls_origin(silent=True)
    b = berth_with(trusted(pki), "--connect-timeout", "250ms")
    t0 = time.monotonic()
    assert get(b, origin).headers["Berth-Error"] == "tls-handshake-timeout"
    assert time.monotonic() - t0 < 2.5


# ------------------------------------------------------------------------------------------------ resumption

def test_after_pause_and_resume_the_reconnect_resumes_the_session(berth_with, tls_origin, pki):
    origin = tls_origin()
    b = berth_with(trusted(pki))
    assert get(b, origin, "/1").status_code == 200
    wait_for(lambda: tls_stats(b, origin)["idle"] == 1, what="the connection pooled")
    endpoint = origin.hostport
    assert admin(b, "POST", f"/pause?upstream={endpoint}").json()["closed_idle"] == 1
    assert admin(b, "POST", f"/resume?upstream={endpoint}").status_code == 200
    assert get(b, origin, "/2").status_code == 200
    assert [c["resumed"] for c in origin.connections] == [False, True]
    assert tls_stats(b, origin)["tls"] == {"handshakes_full": 1, "handshakes_resumed": 1, "handshake_failures": 0}
    metrics = admin(b, "GET", "/metrics").text
    assert f'berth_tls_handshakes_resumed_total{{upstream="https://{endpoint}"}} 1' in metrics


def test_every_pause_and_resume_cycle_resumes(berth_with, tls_origin, pki):
    # Regression: the cached session was the very object the reconnect offered, and the reset that closes a paused
    # connection made OpenSSL mark it not resumable, so every second cycle paid a full handshake.
    # TLS 1.2: a resumed connection gets no new ticket, so it keeps using the very session it was offered.
    origin = tls_origin(max_version=ssl.TLSVersion.TLSv1_2)
    b = berth_with(trusted(pki))
    assert get(b, origin, "/0").status_code == 200
    for cycle in range(1, 4):
        wait_for(lambda: tls_stats(b, origin)["idle"] == 1, what="the connection pooled")
        admin(b, "POST", f"/pause?upstream={origin.hostport}")
        admin(b, "POST", f"/resume?upstream={origin.hostport}")
        assert get(b, origin, f"/{cycle}").status_code == 200
    assert [c["resumed"] for c in origin.connections] == [False, True, True, True]
    assert tls_stats(b, origin)["tls"]["handshakes_resumed"] == 3


def test_prewarmed_connections_resume_and_stay_idle_through_the_session_tickets(berth_with, tls_origin, pki):
    # TLS 1.3 servers send their tickets after the handshake: readable bytes on an idle connection that are not
    # the end of it. The idle watch must keep such a connection.
    origin = tls_origin()
    b = berth_with(trusted(pki))
    assert get(b, origin).status_code == 200
    admin(b, "POST", f"/pause?upstream={origin.hostport}")
    assert admin(b, "POST", f"/resume?upstream={origin.hostport}&prewarm=2").json()["prewarmed"] == 2
    wait_upstream(b, f"https://{origin.hostport}", lambda u: u["idle"] == 2 and u["tls"]["handshakes_resumed"] == 2,
                  what="two prewarmed connections, resumed")
    # The tickets of both handshakes have arrived by now; the connections are still idle.
    wait_for(lambda: len(origin.connections) == 3, what="the origin's side of both handshakes")
    time.sleep(0.3)
    up = tls_stats(b, origin)
    assert up["idle"] == 2 and up["connections"]["closed"]["peer-closed-idle"] == 0, up
    assert get(b, origin, "/warm").status_code == 200
    assert len(origin.connections) == 3, "the request used a prewarmed connection"


def test_a_pause_holds_requests_for_the_tls_pool(berth_with, tls_origin, pki):
    origin = tls_origin()
    b = berth_with(trusted(pki))
    assert admin(b, "POST", f"/pause?upstream={origin.hostport}&mode=reject").status_code == 200
    r = get(b, origin)
    assert r.status_code == 503 and r.headers["Berth-Error"] == "upstream-paused"
    assert origin.connections == []


# ------------------------------------------------------------------------------------------------ idle close

@pytest.mark.parametrize("mode", ["close_notify", "reset"])
def test_an_idle_close_by_the_origin_drops_the_connection_at_once(berth_with, tls_origin, pki, mode):
    origin = tls_origin(idle_close=0.3, idle_mode=mode)
    b = berth_with(trusted(pki), "--idle-timeout", "30s")
    assert get(b, origin, "/a").status_code == 200
    t0 = time.monotonic()
    up = wait_upstream(b, f"https://{origin.hostport}", lambda u: u["connections"]["closed"]["peer-closed-idle"] == 1,
                       timeout=5, what="the idle close seen")
    assert up["idle"] == 0 and up["open"] == 0
    assert time.monotonic() - t0 < 2.5
    # The next request reconnects (resuming) instead of failing on a dead connection.
    assert get(b, origin, "/b").status_code == 200
    assert origin.connections[-1]["resumed"] is True
    assert tls_stats(b, origin)["retries"] == 0


# ------------------------------------------------------------------------------------------------ https:// targets

def test_an_absolute_https_target_is_proxied_over_tls(berth, tls_origin, pki):
    origin = tls_origin()
    b = berth(env={"SSL_CERT_FILE": pki.ca})
    s = socket.create_connection(b.proxy, timeout=10)
    s.sendall(f"GET https://{origin.hostport}/s HTTP/1.1\r\nHost: {origin.hostport}\r\n\r\n".encode())
    assert s.recv(65536).startswith(b"HTTP/1.1 200 ")
    s.close()


def test_connect_tunnels_stay_as_they_are(berth, tls_origin, pki):
    origin = tls_origin()
    b = berth("--connect-port", str(origin.port))
    r = requests.get(f"https://{origin.hostport}/t", proxies={"https": b.proxy_url}, verify=pki.ca, timeout=10)
    assert r.text == "hello /t"
    assert tls_stats(b, origin) is None, "a tunnel is no pool"


# ------------------------------------------------------------------------------------------------ check-config

def check_config(tmp_path, text):
    conf = tmp_path / "bad.yaml"
    conf.write_text("profile: same-region\n" + text)
    return subprocess.run([BERTH_BIN, "check-config", str(conf)], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("entry,line,message", [
    ("tls: {min-version: \"1.1\"}", 4, "destinations[0].tls.min-version: \"1.1\" is not a TLS version (write 1.2 or 1.3)"),
    ("tls: {sni: x}", 4, "destinations[0].tls.sni: unknown key (tls may set verify, ca-file, server-name, client-cert, client-key, min-version)"),
    ("tls: maybe", 4, "destinations[0].tls: \"maybe\" is not true, false or a mapping"),
    ("tls: {verify: perhaps}", 4, "destinations[0].tls.verify: \"perhaps\" is not true or false"),
    ("tls: {server-name: \"bad name!\"}", 4, "is not a host name or an IP address"),
])
def test_check_config_refuses_bad_tls_settings_with_their_line(tmp_path, entry, line, message):
    p = check_config(tmp_path, f"destinations:\n  - match: localhost\n    {entry}\n")
    assert p.returncode == 64, p
    assert f"bad.yaml:{line}: " in p.stderr and message in p.stderr, p.stderr


def test_check_config_names_the_line_of_a_missing_or_wrong_file(tmp_path, pki):
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    cases = [
        (f"    tls:\n      verify: true\n      ca-file: {tmp_path}/missing.pem\n", 6, "destinations[0].tls.ca-file: cannot read"),
        (f"    tls:\n      ca-file: {not_pem}\n", 5, "destinations[0].tls.ca-file:"),
        (f"    tls:\n      client-cert: {pki.client}\n", 5, "destinations[0].tls.client-cert: needs client-key as well"),
        (f"    tls:\n      client-cert: {pki.client}\n      client-key: {pki.server_key}\n", 6,
         "destinations[0].tls.client-key: " + pki.server_key + " does not match the client certificate"),
    ]
    for body, line, message in cases:
        p = check_config(tmp_path, "destinations:\n  - match: localhost\n" + body)
        assert p.returncode == 64, (body, p)
        assert p.stderr.startswith(f"berth: {tmp_path}/bad.yaml:{line}: ") and message in p.stderr, (body, p.stderr)


def test_check_config_prints_tls_settings_that_read_back(tmp_path, pki):
    p = check_config(tmp_path, f"destinations:\n  - match: localhost\n    tls: {{verify: false, ca-file: {pki.ca}, min-version: \"1.3\"}}\n")
    assert p.returncode == 0, p.stderr
    assert f"tls: {{verify: false, ca-file: {pki.ca}, min-version: \"1.3\"}}" in p.stdout
    assert "warning: " in p.stderr and "tls.verify: false" in p.stderr
    # The output is itself a valid file that prints the same (it names itself as the config file).
    (tmp_path / "bad.yaml").write_text(p.stdout)
    q = subprocess.run([BERTH_BIN, "check-config", str(tmp_path / "bad.yaml")], capture_output=True, text=True, timeout=30)
    assert q.returncode == 0 and q.stdout == p.stdout
