"""A table of upstreams full of idle entries gives way to a new upstream instead of answering 503 (adv12).

An entry holding only idle pooled connections could not be forgotten ("no connection open"), so once
`max-upstreams` entries each kept an idle connection (a caller visiting many keep-alive servers, or a reload that
lowered `max-upstreams` below the table's size), every request to a new upstream got `503 too-many-upstreams`
("none is idle enough to forget") until the idle timeout closed them: a minute with `idle-timeout: 1m`. An idle
pooled connection is berth's to close at any time, so the least recently used such entries now give way (their
idle connections closed as `evicted`) when no empty entry can."""
import http.server
import json
import signal
import threading
import urllib.request

import pytest

from berthkit import Berth, wait_for


class KeepAlive(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def origins():
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive) for _ in range(8)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield [s.server_address[1] for s in servers]
    for s in servers:
        s.shutdown()
        s.server_close()


def get(b, port):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": b.proxy_url}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/", timeout=10) as r:
            return r.status, None
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Berth-Error")


def totals(b):
    with urllib.request.urlopen(b.admin_url + "/stats", timeout=10) as r:
        return json.load(r)["totals"]


@pytest.mark.parametrize("how", ["reload", "start"])
def test_a_new_upstream_takes_the_place_of_an_idle_entry(tmp_path, origins, how):
    config = tmp_path / "berth.yaml"
    base = "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nidle-timeout: 1m\n"
    config.write_text(base + ("" if how == "reload" else "max-upstreams: 3\n"))
    b = Berth(["--profile", "same-region", "--config", str(config)])
    try:
        first, later = origins[:5], origins[5:]
        for port in first:
            assert get(b, port)[0] == 200
        if how == "reload":
            # The client has its answer a moment before berth parks the connection again: wait for all five.
            assert wait_for(lambda: totals(b)["idle"] == 5, timeout=10, what="five idle connections")
            assert totals(b)["upstreams"] == 5, totals(b)
            config.write_text(base + "max-upstreams: 3\n")
            b.proc.send_signal(signal.SIGHUP)
            b.wait_log("configuration reloaded")
        for port in later:
            assert get(b, port) == (200, None)
        t = totals(b)
        assert t["upstreams"] <= 3, t
        # The entries that gave way were the least recently used; the newest stays known, with its idle connection.
        assert get(b, later[-1]) == (200, None)
    finally:
        assert b.stop() == 0
