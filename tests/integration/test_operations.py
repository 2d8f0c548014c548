"""Operating berth: SIGHUP reloads, the access log, JSON logs, and memory that stays flat under a 1 GB upload."""
import json
import signal
import socket
import threading
import time

import requests

from berth_helpers import wait_for


def _stats(berth, hostport):
    return requests.get(f"{berth.admin_url}/stats?upstream={hostport}", timeout=10).json()["upstreams"][0]


def test_sighup_applies_new_timeouts_and_limits_without_dropping_connections(berth, origin, tmp_path):
    cfg = tmp_path / "berth.yaml"
    cfg.write_text("profile: same-region-failover\nsocket-timeout: 2s\nmax-per-route: 7\n")
    b = berth("--config", str(cfg), profile=None)
    s = requests.Session()
    assert s.get(f"http://{origin.hostport}/a", proxies={"http": b.proxy_url}, timeout=10).status_code == 200
    before = _stats(b, origin.hostport)
    assert before["timeouts_ms"]["socket"] == 2000 and before["limits"]["max_per_route"] == 7

    cfg.write_text("profile: same-region-failover\nsocket-timeout: 9s\nmax-per-route: 3\n")
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: _stats(b, origin.hostport)["timeouts_ms"]["socket"] == 9000, what="reload applied")
    after = _stats(b, origin.hostport)
    assert after["limits"]["max_per_route"] == 3
    # The pooled connection survived the reload and is reused.
    assert s.get(f"http://{origin.hostport}/b", proxies={"http": b.proxy_url}, timeout=10).status_code == 200
    assert _stats(b, origin.hostport)["connections"]["opened"] == 1
    wait_for(lambda: "configuration reloaded" in b.stderr_text(), what="reload logged")


def test_sighup_with_a_broken_file_keeps_the_running_configuration(berth, origin, tmp_path):
    cfg = tmp_path / "berth.yaml"
    cfg.write_text("profile: same-region-failover\nsocket-timeout: 2s\n")
    b = berth("--config", str(cfg), profile=None)
    assert requests.get(f"http://{origin.hostport}/a", proxies={"http": b.proxy_url}, timeout=10).status_code == 200
    cfg.write_text("profile: same-region-failover\nsocket-timeout: soon\n")
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in b.stderr_text(), what="reload failure logged")
    assert "socket-timeout" in b.stderr_text()
    assert _stats(b, origin.hostport)["timeouts_ms"]["socket"] == 2000
    assert requests.get(f"http://{origin.hostport}/b", proxies={"http": b.proxy_url}, timeout=10).status_code == 200


def test_access_log_has_one_json_line_per_request(berth, origin):
    b = berth("--access-log", "--log-format", "json")
    for path in ("/one", "/two"):
        assert requests.get(f"http://{origin.hostport}{path}", proxies={"http": b.proxy_url}, timeout=10).status_code == 200
    r = requests.get("http://127.0.0.1:1/refused", proxies={"http": b.proxy_url}, timeout=10)
    assert r.status_code == 502

    def access_lines():
        out = []
        for line in b.stderr_text().splitlines():
            doc = json.loads(line)  # every log line is one JSON object
            if doc.get("msg") == "access":
                out.append(doc)
        return out

    wait_for(lambda: len(access_lines()) == 3, what="three access lines")
    first, second, refused = access_lines()
    assert first["upstream"] == origin.hostport and first["status"] == 200 and first["method"] == "GET"
    assert first["reused"] is False and second["reused"] is True, "the second request reused the pooled connection"
    assert first["berth_error"] is None
    assert refused["status"] == 502 and refused["berth_error"] == "connect-refused" and refused["reused"] is None
    for line in (first, second, refused):
        assert {"bytes_in", "bytes_out", "total_ms", "ttfb_ms", "attempts"} <= set(line)


def test_a_1gb_upload_streams_without_growing_memory(berth):
    """RSS grows by a few MB at most while 1 GB passes through: bodies stream with backpressure, never buffered whole."""
    received = {"n": 0}
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def origin():
        conn, _ = srv.accept()
        with conn:
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += conn.recv(65536)
            head, _, rest = buf.partition(b"\r\n\r\n")
            length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
            got = len(rest)
            while got < length:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                got += len(chunk)
            received["n"] = got
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    t = threading.Thread(target=origin, daemon=True)
    t.start()
    b = berth("--socket-timeout", "30s")

    def rss_kb():
        with open(f"/proc/{b.proc.pid}/status") as f:
            return int([l for l in f if l.startswith("VmRSS")][0].split()[1])

    size = 1 << 30
    c = socket.create_connection(b.proxy, timeout=60)
    c.sendall(f"POST http://127.0.0.1:{port}/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {size}\r\n\r\n".encode())
    block = b"u" * (1 << 20)
    start_rss = rss_kb()
    peak = start_rss
    for i in range(size // len(block)):
        c.sendall(block)
        if i % 64 == 0:
            peak = max(peak, rss_kb())
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += c.recv(4096)
    c.close()
    t.join(30)
    srv.close()
    assert reply.startswith(b"HTTP/1.1 200"), reply[:100]
    assert received["n"] == size
    assert peak - start_rss < 8 * 1024, f"RSS grew by {(peak - start_rss) / 1024:.1f} MB during a 1 GB upload"


def test_host_names_resolve_without_blocking_and_share_a_pool(berth, origin):
    """`localhost` resolves (from /etc/hosts, before any DNS query) and names its own pool, apart from 127.0.0.1."""
    b = berth()
    s = requests.Session()
    for _ in range(3):
        r = s.get(f"http://localhost:{origin.port}/named", proxies={"http": b.proxy_url}, timeout=10)
        assert r.status_code == 200 and r.text == "hello /named"
    up = _stats(b, f"localhost:{origin.port}")
    assert up["upstream"] == f"localhost:{origin.port}"
    assert up["connections"]["opened"] == 1 and up["connections"]["reused"] == 2
    # Host names are case-insensitive: the same pool.
    r = s.get(f"http://LocalHost:{origin.port}/again", proxies={"http": b.proxy_url}, timeout=10)
    assert r.status_code == 200
    assert _stats(b, f"localhost:{origin.port}")["requests"] == 4
