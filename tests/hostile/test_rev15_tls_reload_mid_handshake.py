"""A TLS reload that rotates the trust while a handshake made under the old one is still under way (review15): the
session that handshake ends with must not be offered to the connections made under the new trust, whose resumed
handshake would check no certificate. The origin's flight is held back by a relay until the reload is applied."""
import signal
import socket
import ssl
import threading

import pytest
import requests

from berthkit import admin_json, wait_for
from berthkit.tls_origin import TLSOrigin
from berthkit.tls_pki import PKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


class HoldingRelay:
    """TCP relay to `target`: the first connection's server-to-client bytes wait until `release()`; later ones flow."""

    def __init__(self, target):
        self.target = target
        self.go = threading.Event()
        self.first_bytes = threading.Event()
        self.accepted = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            held = self.accepted == 1
            s = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(c, s, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c, self.go if held else None), daemon=True).start()

    def _pump(self, src, dst, gate):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if gate is not None:
                    self.first_bytes.set()
                    gate.wait(20)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def release(self):
        self.go.set()

    def close(self):
        self.listener.close()


def test_a_handshake_under_way_at_a_trust_reload_leaves_no_session_for_the_new_trust(berth, tmp_path, pki):
    # TLS 1.2: the session is issued by the handshake itself, so it arrives with the held flight.
    origin = TLSOrigin(pki.server, pki.server_key, max_version=ssl.TLSVersion.TLSv1_2)
    relay = HoldingRelay(("127.0.0.1", origin.port))
    try:
        ca = tmp_path / "ca.pem"
        ca.write_bytes(open(pki.ca, "rb").read())
        config = tmp_path / "berth.yaml"
        destinations = f'destinations:\n  - match: localhost\n    tls: {{ca-file: "{ca}"}}\n'
        config.write_text(destinations)
        b = berth("--config", str(config), "--connect-timeout", "10s", "--tls-handshake-timeout", "10s",
                  "--socket-timeout", "10s")
        url = f"http://localhost:{relay.port}/"
        proxies = {"http": b.proxy_url}
        first = {}
        t = threading.Thread(target=lambda: first.update(r=requests.get(url, proxies=proxies, timeout=20)))
        t.start()
        assert relay.first_bytes.wait(10), "the origin's flight never reached the relay"
        # The same file, another trust; applied while the first handshake waits for the origin's flight.
        ca.write_bytes(open(pki.other_ca, "rb").read())
        done = b.stderr_text().count("configuration reloaded")
        b.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: b.stderr_text().count("configuration reloaded") > done, timeout=10, what="the reload")
        relay.release()
        t.join(20)
        # Made under the old trust, the first connection may finish; what it was issued stays with it.
        assert first["r"].status_code == 200, first["r"].headers
        admin_json(b, "POST", f"/evict?upstream=localhost:{relay.port}")
        r = requests.get(url, proxies=proxies, timeout=20)
        assert r.status_code == 502 and r.headers.get("Berth-Error") == "tls-untrusted-certificate", \
            (r.status_code, r.headers, [c["resumed"] for c in origin.connections])
    finally:
        relay.release()
        relay.close()
        origin.close()
