"""rev22: a reload retires a TLS pool its endpoint no longer routes to (item 173): idle connections close, and the
entry is marked to go when its last busy connection ends. A second reload that routes the endpoint there again
(the TLS settings put back, a config flip rolled back) left that mark: the pool, in use again, was still being
forgotten, so each connection a request gave back was closed instead of kept (no reuse while any request was in
flight: a TLS handshake per request for as long as the load lasted), and once the last one ended the entry went,
its per-upstream counters with it (a counter that went down for an upstream being served)."""
import socket
import time

import pytest
import requests

from berthkit import stats, wait_for
from berthkit.tls_origin import TLSOrigin
from berthkit.tls_pki import PKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


def _destination(extra=""):
    return f"destinations:\n  - match: 127.0.0.1\n    tls: {{server-name: localhost{extra}}}\n"


def test_a_pool_routed_again_by_a_later_reload_is_not_forgotten(berth, tmp_path, pki):
    origin = TLSOrigin(pki.server, pki.server_key)
    held = None
    try:
        config = tmp_path / "berth.yaml"
        trust = f", ca-file: \"{pki.ca}\""
        config.write_text(_destination(trust))
        b = berth("--config", str(config), "--socket-timeout", "10s")
        port = origin.port
        name = f"https://127.0.0.1:{port}"
        proxies = {"http": b.proxy_url}
        # A request in flight on the TLS pool: its body half sent, the origin waiting for the rest.
        held = socket.create_connection(b.proxy, timeout=10)
        held.sendall(f"POST http://127.0.0.1:{port}/held HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Content-Length: 6\r\n\r\nabc".encode())
        wait_for(lambda: len(origin.connections) == 1, timeout=10, what="the held request's connection")
        # Away (other TLS settings) and back: the endpoint routes to the first pool again.
        b.reload(config, _destination(trust + ", min-version: \"1.3\""))
        b.reload(config, _destination(trust))
        for path in ("/b", "/c"):
            assert requests.get(f"http://127.0.0.1:{port}{path}", proxies=proxies, timeout=10).status_code == 200
        # /b's connection went back to the pool and /c took it: one more connection, not two.
        assert len(origin.connections) == 2, origin.connections
        held.sendall(b"def")
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = held.recv(65536)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer
        time.sleep(0.2)
        rows = [u for u in stats(b)["upstreams"] if u["upstream"] == name]
        assert len(rows) == 1 and rows[0]["requests"] == 3, stats(b)["upstreams"]
    finally:
        if held:
            held.close()
        origin.close()
