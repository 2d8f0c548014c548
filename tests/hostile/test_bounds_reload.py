"""Reload and names (issue 23 item 13): a TLS reload drops sessions made under the old settings, replay-buffer and
replay-memory take effect on SIGHUP, and a trailing dot in a host name does not bypass its destination's settings
or its allow rule."""
import socket
import threading

import pytest
import requests

from berthkit import RawClient, admin_json, get_req, wait_for
from berthkit.tls_origin import TLSOrigin
from berthkit.tls_pki import PKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


# ------------------------------------------------------------------------------------------------ TLS sessions

def test_a_tls_reload_drops_the_sessions_made_under_the_old_trust(berth, tmp_path, pki):
    """The CA file is rotated to a CA that does not sign the origin's certificate: after the reload a new
    connection must verify again and fail, not resume the session the old trust accepted (a resumed handshake
    checks no certificate)."""
    origin = TLSOrigin(pki.server, pki.server_key)
    try:
        ca = tmp_path / "ca.pem"
        ca.write_bytes(open(pki.ca, "rb").read())
        config = tmp_path / "berth.yaml"
        destinations = f'destinations:\n  - match: localhost\n    tls: {{ca-file: "{ca}"}}\n'
        config.write_text(destinations)
        b = berth("--config", str(config))
        url = f"http://{origin.hostport}/"
        proxies = {"http": b.proxy_url}
        assert requests.get(url, proxies=proxies, timeout=10).status_code == 200
        # The same settings (the same file), another trust.
        ca.write_bytes(open(pki.other_ca, "rb").read())
        b.reload(config, destinations)
        admin_json(b, "POST", f"/evict?upstream={origin.hostport}")
        r = requests.get(url, proxies=proxies, timeout=10)
        assert r.status_code == 502 and r.headers.get("Berth-Error") == "tls-untrusted-certificate", \
            (r.status_code, r.headers, [c["resumed"] for c in origin.connections])
    finally:
        origin.close()


# ------------------------------------------------------------------------------------------------ replay settings

def _skipped(b, origin):
    up = next(u for u in admin_json(b, "GET", "/stats")["upstreams"] if u["upstream"] == origin.hostport)
    return up["replay_skipped"]


def test_replay_buffer_takes_effect_on_reload(berth, origin, tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("replay: unread\nreplay-buffer: 1KiB\n")
    b = berth("--config", str(config))
    body = b"x" * 4096
    r = RawClient(b.proxy).request(get_req(origin.hostport, "/up", method="POST", body=body), "POST")
    assert r.status == 200 and r.body == body
    assert _skipped(b, origin)["body-too-large"] == 1
    b.reload(config, "replay: unread\nreplay-buffer: 64KiB\n")
    r = RawClient(b.proxy).request(get_req(origin.hostport, "/up", method="POST", body=body), "POST")
    assert r.status == 200 and r.body == body
    assert _skipped(b, origin)["body-too-large"] == 1, "the 4 KiB body fits the reloaded 64 KiB replay buffer"


def test_replay_memory_takes_effect_on_reload(berth, origin, tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("replay: unread\nreplay-buffer: 64KiB\nreplay-memory: 1MiB\n")
    b = berth("--config", str(config), "--acquire-timeout", "10s")
    # replay-memory 64KiB: one buffer of 64 KiB. Two requests held by a pause each want one.
    b.reload(config, "replay: unread\nreplay-buffer: 64KiB\nreplay-memory: 64KiB\n")
    admin_json(b, "POST", f"/pause?upstream={origin.hostport}&hold=10s")
    held = []
    for i in range(2):
        c = RawClient(b.proxy, timeout=15)
        c.sendall(get_req(origin.hostport, f"/held/{i}", method="POST", body=b"y" * 100))
        held.append(c)
        wait_for(lambda: admin_json(b, "GET", "/stats")["totals"]["pending"] == i + 1, what=f"request {i} held")
    admin_json(b, "POST", f"/resume?upstream={origin.hostport}")
    for c in held:
        assert c.read_response("POST").status == 200
        c.close()
    assert _skipped(b, origin)["buffer-full"] == 1, "the second held request found the one buffer in use"


# ------------------------------------------------------------------------------------------------ trailing dots

class UnixOrigin:
    """An HTTP/1.1 origin on a Unix socket that answers every request with the Host it was sent."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(10)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                host = next((line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")[1:]
                             if line.lower().startswith(b"host:")), b"")
                body = b"unix origin, Host: " + host
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except OSError:
            return
        finally:
            conn.close()

    def close(self):
        self.stopped.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def unix_origin(tmp_path):
    o = UnixOrigin(str(tmp_path / "origin.sock"))
    yield o
    o.close()


@pytest.mark.parametrize("target", ["example.internal:80", "example.internal.:80", "EXAMPLE.Internal.:80"])
def test_a_trailing_dot_reaches_its_destinations_settings(berth, tmp_path, unix_origin, target):
    """`example.internal.` meets the settings of `example.internal`: the destination's `unix:` mapping applies to both
    spellings (a name the resolver cannot find, so only the mapping reaches the origin). The absolute name is its
    own upstream (hostile1: it may resolve elsewhere than the relative one, so they share no connection)."""
    config = tmp_path / "berth.yaml"
    config.write_text(f'destinations:\n  - match: "example.internal:80"\n    unix: "{unix_origin.path}"\n')
    b = berth("--config", str(config))
    r = RawClient(b.proxy).request(get_req(target, "/"))
    assert r.status == 200 and r.body.startswith(b"unix origin"), r
    assert [u["upstream"] for u in admin_json(b, "GET", "/stats")["upstreams"]] == [target.lower()]


@pytest.mark.parametrize("rule", ["example.internal", "*.internal"])
def test_a_trailing_dot_is_judged_by_the_allow_rule_of_its_name(berth, tmp_path, unix_origin, rule):
    config = tmp_path / "berth.yaml"
    config.write_text(f'allow: ["{rule}"]\ndestinations:\n  - match: "example.internal:80"\n    unix: "{unix_origin.path}"\n')
    b = berth("--config", str(config))
    for target in ("example.internal:80", "example.internal.:80"):
        r = RawClient(b.proxy).request(get_req(target, "/"))
        assert r.status == 200, (target, r)
    # Another name, with or without its dot, is still refused.
    for target in ("other.example:80", "other.example.:80"):
        r = RawClient(b.proxy).request(get_req(target, "/"))
        assert r.status == 403 and r.header("Berth-Error") == "destination-denied", (target, r)
