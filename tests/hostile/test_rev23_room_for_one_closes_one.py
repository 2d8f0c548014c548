"""rev23, of item 188: a new upstream past max-upstreams closes the idle connections of one entry, not a batch.

With no empty entry, the least recently used entries holding only idle connections give way (adv12). They went
in a batch of a sixteenth of max-upstreams, as empty entries do to spare a scan per request; but an empty entry
costs nothing to forget and a warm one costs its connections: one request to a new upstream closed the pools of
max-upstreams/16 upstreams (625 at the default 10,000), so a caller sending a few requests to new destinations
emptied the warm pools of every upstream the orchestrator uses, and the orchestrator's own 501st upstream under
max-upstreams 500 closed 31 warm pools where it needed one. Now as many go as make room; the scan stays shared
by the requests that follow (the sorted candidates are kept)."""
import http.server
import json
import threading
import urllib.request

import pytest

from berthkit import Berth

N = 32  # max-upstreams: a batch was 2


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
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive) for _ in range(N + 4)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield [s.server_address[1] for s in servers]
    for s in servers:
        s.shutdown()
        s.server_close()


def get(b, port):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": b.proxy_url}))
    with opener.open(f"http://127.0.0.1:{port}/", timeout=10) as r:
        return r.status


def stats(b):
    with urllib.request.urlopen(b.admin_url + "/stats", timeout=10) as r:
        return json.load(r)


def test_each_new_upstream_past_the_bound_closes_one_warm_pool(tmp_path, origins):
    b = Berth(["--profile", "same-region", "--workers", "1", "--max-upstreams", str(N), "--idle-timeout", "1m"])
    try:
        warm, new = origins[:N], origins[N:]
        for port in warm:
            assert get(b, port) == 200
        assert stats(b)["totals"]["upstreams"] == N
        for i, port in enumerate(new, 1):
            assert get(b, port) == 200
            known = {u["upstream"] for u in stats(b)["upstreams"]}
            # The i least recently used gave way, no more: every other warm upstream keeps its idle connection.
            assert len(known) == N, (i, len(known))
            assert {f"127.0.0.1:{p}" for p in warm[i:]} <= known, (i, sorted(known))
    finally:
        assert b.stop() == 0
