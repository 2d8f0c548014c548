"""rev23, of item 198: the orchestrator's forget of a busy TLS pool is not undone by a reload flipped back.

`/evict?forget=true` on an upstream whose TLS pool has a request in flight marks the entry to go when that request
ends. A reload that changes the destination's `tls` then retires the same pool (rev22's `retired` mark, set
because the pool could not go at once), and a later reload that puts the settings back takes a reload's retirement
back: it cleared the orchestrator's forget with it, so the entry, its idle connection and its counters stayed for
an upstream the orchestrator had said to forget. api.md: "the orchestrator's own /evict?forget=true clears
`retired`, so no reload undoes it"."""
import socket
import time

import pytest

from berthkit import admin_json, stats, wait_for
from berthkit.tls_origin import TLSOrigin
from berthkit.tls_pki import PKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


def _destination(extra=""):
    return f"destinations:\n  - match: 127.0.0.1\n    tls: {{server-name: localhost{extra}}}\n"


def test_a_forget_pending_on_a_tls_pool_survives_a_reload_flip(berth, tmp_path, pki):
    origin = TLSOrigin(pki.server, pki.server_key)
    held = None
    try:
        config = tmp_path / "berth.yaml"
        trust = f", ca-file: \"{pki.ca}\""
        config.write_text(_destination(trust))
        b = berth("--config", str(config), "--socket-timeout", "10s")
        port = origin.port
        name = f"https://127.0.0.1:{port}"
        held = socket.create_connection(b.proxy, timeout=10)
        held.sendall(f"POST http://127.0.0.1:{port}/held HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Content-Length: 6\r\n\r\nabc".encode())
        wait_for(lambda: len(origin.connections) == 1, timeout=10, what="the held request's connection")
        r = admin_json(b, "POST", f"/evict?upstream=127.0.0.1:{port}&forget=true")
        assert r.get("forget_pending") is True, r
        b.reload(config, _destination(trust + ", min-version: \"1.3\""))
        b.reload(config, _destination(trust))
        held.sendall(b"def")
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = held.recv(65536)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer
        # The last request ended: the entry the orchestrator forgot goes.
        wait_for(lambda: not [u for u in stats(b)["upstreams"] if u["upstream"] == name], timeout=5,
                 what="the forgotten entry to go")
    finally:
        if held:
            held.close()
        origin.close()
