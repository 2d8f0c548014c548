"""A reload must not leave a listener berth cannot move (it was bound at start) without the guard its address needs:
a file that moves `admin` to loopback and drops the token, or moves `listen` to loopback and drops `allow`, passed
its checks against the address it named while berth kept serving on 0.0.0.0: the admin then took commands from
the network with no token, the proxy forwarded anywhere. Such a reload now fails and the running one is kept."""
import signal
import socket

import pytest

from berthkit import BERTH_BIN, Berth, wait_for
from hostile_wire import exchange, status_of

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def started(tmp_path):
    made = []

    def start(text):
        config = tmp_path / "berth.yaml"
        config.write_text(text)
        b = Berth(["--profile", "same-region-failover", "--config", str(config)])
        made.append(b)
        return b, config
    yield start
    for b in made:
        b.stop()


def reload_with(b, config, text):
    """Writes `text`, sends SIGHUP and waits for the reload's outcome; berth's stderr."""
    def outcomes():
        err = b.stderr_text()
        return err.count("configuration reloaded") + err.count("reload failed")
    config.write_text(text)
    mark = outcomes()
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: outcomes() > mark, timeout=10, what="the reload's outcome")
    return b.stderr_text()


def test_a_reload_cannot_drop_the_token_of_an_admin_open_to_the_network(started, tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    b, config = started(f"listen: 127.0.0.1:0\nadmin: 0.0.0.0:0\nadmin-token-file: {token}\n")
    port = b.admin[1]
    pause = b"POST /pause?upstream=a.example:1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert status_of(exchange(("127.0.0.1", port), pause)) == 401
    err = reload_with(b, config, "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n")
    assert "reload failed" in err and "admin-token-file is required" in err, err[-1500:]
    assert status_of(exchange(("127.0.0.1", port), pause)) == 401
    assert b.proc.poll() is None


def test_a_reload_cannot_drop_the_allow_list_of_a_proxy_open_to_the_network(started):
    b, config = started("listen: 0.0.0.0:0\nadmin: 127.0.0.1:0\nallow: [allowed.invalid]\n")
    port = b.proxy[1]
    err = reload_with(b, config, "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n")
    assert "reload failed" in err and "allow must list" in err, err[-1500:]
    got = exchange(("127.0.0.1", port), b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: close\r\n\r\n")
    assert status_of(got) == 403 and b"destination-denied" in got, got[:300]
