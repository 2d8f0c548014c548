"""A /resume that forgets a sibling pool under its own feet (review7).

/resume walks the endpoint's pools (the http:// one, then the https:// one). Re-admitting a request held in the
first may take the least recently used idle connection of another pool for its slot (at --max-total); when that
connection was the last of the https:// pool, and /evict?forget=true had marked that pool to go once empty
(idle_for= keeps young idle connections, so a marked pool can still hold one), its close dropped the pool and freed
its ledger slot, and the walk then resumed the dropped pool: a force unwrap of the empty slot, SIGILL, the whole
proxy gone. Reachable by an orchestrator with two admin calls and ordinary traffic."""
import socket
import time

import pytest

from berthkit import admin_json, wait_for
from berthkit.tls_origin import TLSOrigin
from berthkit.tls_pki import PKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


def _pool(b, port, tls):
    for u in admin_json(b, "GET", "/stats")["upstreams"]:
        if u["upstream"].endswith(f":{port}") and u["upstream"].startswith("https://") == tls:
            return u
    return None


def _recv_answer(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_resume_survives_dropping_a_sibling_pool_it_took_a_slot_from(berth, pki):
    origin = TLSOrigin(pki.server, pki.server_key)
    try:
        port = origin.port
        hp = f"127.0.0.1:{port}"
        # One worker, one connection in all: the held request can only get a slot by closing the https:// pool's
        # idle connection. SSL_CERT_FILE makes the test CA berth's trust store, so https:// verifies.
        b = berth("--workers", "1", "--max-total", "1", "--max-per-route", "1", "--acquire-timeout", "10s", "--socket-timeout", "30s",
                  env={"SSL_CERT_FILE": pki.ca})
        # 1. An https:// upload in flight holds the only connection (its body not all sent yet).
        up = socket.create_connection(b.proxy)
        up.sendall(f"POST https://{hp}/up HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 10\r\n\r\n12345".encode())
        wait_for(lambda: (_pool(b, port, True) or {}).get("busy") == 1, timeout=10, what="the https:// upload in flight")
        # 2. An http:// request to the same endpoint waits for --max-total.
        held = socket.create_connection(b.proxy)
        held.sendall(f"GET http://{hp}/held HTTP/1.1\r\nHost: {hp}\r\n\r\n".encode())
        wait_for(lambda: (_pool(b, port, False) or {}).get("pending") == 1, timeout=10, what="the queued http:// request")
        # 3. The upload ends: its connection goes idle in the https:// pool (the queued request stays queued).
        up.sendall(b"67890")
        assert _recv_answer(up).startswith(b"HTTP/1.1 200")
        wait_for(lambda: (_pool(b, port, True) or {}).get("idle") == 1, timeout=10, what="the idle https:// connection")
        # 4. Forget the endpoint, keeping connections idle for less than an hour: both pools are marked to go.
        r = admin_json(b, "POST", f"/evict?upstream={hp}&idle_for=1h&forget=true")
        assert r["forget_pending"] is True, r
        # 5. /resume re-admits the held request, which closes the idle https:// connection for its slot.
        try:
            r = admin_json(b, "POST", f"/resume?upstream={hp}")
        except Exception as e:  # noqa: BLE001  the admin connection died with berth
            r = e
        time.sleep(0.3)
        err = b.stderr_text()
        assert b.proc.poll() is None, f"berth died on /resume: exit {b.proc.returncode}\n{err[err.find('crashed'):][:1500]}"
        assert isinstance(r, dict) and r["state"] == "active", r
        # The held request is answered (it went out plain to a TLS port: any answer of berth's will do).
        assert _recv_answer(held).startswith(b"HTTP/1.1 "), "the held request got no answer"
        assert admin_json(b, "GET", "/healthz")["status"] == "ok"
        up.close()
        held.close()
    finally:
        origin.close()
