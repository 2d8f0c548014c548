"""Keep-alive timeouts announced and honoured on both hops (issue 20 item 3): the upstream's hint, berth's own."""
import os
import subprocess
import threading
import time

import pytest

from berthkit import RawClient, get_req, raw_request, upstream_stats, wait_upstream

NODE_SERVER = os.path.join(os.path.dirname(__file__), "..", "e2e", "upstreams", "node_server.js")


class NodeUpstream:
    """A Node.js keep-alive server (`server.keepAliveTimeout`), which announces `Keep-Alive: timeout=N`."""

    def __init__(self, keepalive_ms):
        self.proc = subprocess.Popen(["node", NODE_SERVER, str(keepalive_ms)], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("l", self.proc.stdout.readline().decode().strip()),
                             daemon=True)
        t.start()
        t.join(10)
        line = out.get("l", "")
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"node did not start: {line!r}")
        self.hostport = f"127.0.0.1:{int(line.split()[1])}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def node2s():
    try:
        n = NodeUpstream(2000)
    except FileNotFoundError:
        pytest.skip("node is not installed")
    yield n
    n.stop()


def closed(up, reason):
    return up["connections"]["closed"].get(reason, 0)


def test_upstream_hint_closes_idle_connection_before_the_server_does(berth, node2s):
    """Node announces timeout=2; berth's own idle timeout is 60 s: berth closes the idle connection first (the
    hint's margin), counted as keep-alive-hint, and never sees the server's close (peer-closed-idle)."""
    b = berth("--idle-timeout", "60s")
    r = raw_request(b.proxy, get_req(node2s.hostport, "/one"))
    assert r.status == 200 and r.body == b"hello /one", r
    up = wait_upstream(b, node2s.hostport, lambda u: closed(u, "keep-alive-hint") == 1 and u["open"] == 0,
                       timeout=10.0, what="keep-alive-hint == 1 and open == 0")
    assert closed(up, "peer-closed-idle") == 0, up
    assert closed(up, "idle-timeout") == 0, up


def post_at_gaps(b, hostport, gaps):
    """POSTs on one caller connection, each `gap` seconds after the last answer; returns the failures."""
    c = None
    failures = []
    try:
        for i, gap in enumerate([0.0] + gaps):
            time.sleep(gap)
            body = f"activation {i}".encode()
            try:
                if c is None:
                    c = RawClient(b.proxy)
                r = c.request(get_req(hostport, f"/post/{i}", method="POST", body=body))
                if r.status != 200 or r.body != body:
                    failures.append((gap, r.status, r.header("Berth-Error")))
            except (OSError, AssertionError) as e:
                failures.append((gap, repr(e)))
                c = None
    finally:
        if c is not None:
            c.close()
    return failures


def test_node_request_after_the_announced_timeout_never_fails(berth, node2s):
    """POSTs 1.9 s to 2.1 s after the last answer to a server announcing timeout=2: each goes out on a fresh
    connection (the pooled one was retired at the hint), none fails, none is retried."""
    b = berth("--idle-timeout", "60s")
    gaps = [1.9, 2.0, 2.1]
    assert post_at_gaps(b, node2s.hostport, gaps) == []
    up = upstream_stats(b, node2s.hostport)
    assert closed(up, "peer-closed-idle") == 0, up
    assert closed(up, "keep-alive-hint") >= len(gaps), up
    assert up["retries"] == 0, up


def exact_keepalive_origin(seconds):
    """A server that announces `timeout=N` and closes an idle connection exactly N seconds after each answer (as
    Apache httpd and Node before 20 do: no grace of its own)."""
    def handler(conn):
        while True:
            conn.sock.settimeout(30)
            msg = conn.read_request()
            if msg is None:
                return
            conn.respond(200, msg.body or b"", [("Keep-Alive", f"timeout={seconds}")])
            conn.sock.settimeout(seconds)
            try:
                conn.sock.recv(1, __import__("socket").MSG_PEEK)
            except OSError:
                return  # the idle timer: FIN
    return handler


def test_requests_racing_the_servers_own_close_never_fail(berth, raw_origin):
    """POSTs 0.9 s to 1.1 s after the last answer, the window where a server's exact 1 s close races a reused
    connection: berth retired the connection at the hint, so none meets that close (no retry, no peer close)."""
    o = raw_origin(exact_keepalive_origin(1))
    b = berth("--idle-timeout", "60s")
    gaps = [0.90 + 0.02 * i for i in range(11)]  # 0.90 .. 1.10 s
    assert post_at_gaps(b, o.hostport, gaps) == []
    up = upstream_stats(b, o.hostport)
    assert up["retries"] == 0, up
    assert closed(up, "peer-closed-idle") == 0, up
    assert closed(up, "keep-alive-hint") >= len(gaps), up


def keepalive_header(msg):
    return msg.header("Keep-Alive")


def test_caller_is_told_berths_idle_timeout(berth, origin):
    """An HTTP/1.1 keep-alive response carries Keep-Alive: timeout=N, one second under --caller-idle-timeout."""
    b = berth("--caller-idle-timeout", "30s")
    c = RawClient(b.proxy)
    try:
        for i in range(3):
            r = c.request(get_req(origin.hostport, f"/ka/{i}"))
            assert r.status == 200, r
            assert keepalive_header(r) == "timeout=29", r.headers
    finally:
        c.close()


def test_caller_announcement_replaces_the_upstreams(berth, node2s):
    """The upstream's own Keep-Alive (Node's timeout=2) is hop-by-hop: the caller sees berth's alone, once."""
    b = berth("--caller-idle-timeout", "10s")
    r = raw_request(b.proxy, get_req(node2s.hostport, "/node"))
    assert r.status == 200, r
    values = [v for k, v in r.headers if k.lower() == "keep-alive"]
    assert values == ["timeout=9"], r.headers


@pytest.mark.parametrize("setting,expected", [("1s", "timeout=1"), ("1500ms", "timeout=1"), ("2s", "timeout=1"),
                                              ("2999ms", "timeout=1"), ("3s", "timeout=2"), ("1m", "timeout=59")])
def test_announced_value_per_setting(berth, origin, setting, expected):
    b = berth("--caller-idle-timeout", setting)
    r = raw_request(b.proxy, get_req(origin.hostport, "/v"))
    assert keepalive_header(r) == expected, (setting, r.headers)


def test_subsecond_caller_idle_timeout_announces_nothing(berth, origin):
    """timeout=0 would tell Apache HttpClient 4.5 to keep the connection for ever: berth says nothing instead."""
    b = berth("--caller-idle-timeout", "500ms")
    r = raw_request(b.proxy, get_req(origin.hostport, "/sub"))
    assert r.status == 200 and keepalive_header(r) is None, r.headers


def test_no_announcement_to_http10_callers_or_on_close(berth, origin):
    b = berth("--caller-idle-timeout", "30s")
    r10 = raw_request(b.proxy, get_req(origin.hostport, "/ten", version="HTTP/1.0"))
    assert r10.status == 200 and keepalive_header(r10) is None, r10.headers
    r10ka = raw_request(b.proxy, get_req(origin.hostport, "/ten-ka", version="HTTP/1.0",
                                         extra=b"Connection: keep-alive\r\n"))
    assert r10ka.status == 200 and keepalive_header(r10ka) is None, r10ka.headers
    rc = raw_request(b.proxy, get_req(origin.hostport, "/close", extra=b"Connection: close\r\n"))
    assert rc.status == 200 and keepalive_header(rc) is None, rc.headers
    assert (rc.header("Connection") or "").lower() == "close", rc.headers


JAVA_DIR = os.path.join(os.path.dirname(__file__), "java")
HTTPCLIENT_JARS = ["/usr/share/java/httpclient.jar", "/usr/share/java/httpcore.jar",
                   "/usr/share/java/commons-logging.jar", "/usr/share/java/commons-codec.jar"]


def test_apache_httpclient_pooling_to_berth_loses_nothing(berth, origin, tmp_path):
    """The reported case: HttpClient 4.5 pooling POSTs to berth, paused longer than --caller-idle-timeout between
    them. Told berth's timeout, it retires the connection first: no NoHttpResponseException."""
    import shutil
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("java is not installed (apt-get install default-jdk-headless)")
    missing = [j for j in HTTPCLIENT_JARS if not os.path.exists(j)]
    if missing:
        pytest.skip(f"Apache HttpClient 4.5 is not installed (apt-get install libhttpclient-java): {missing}")
    cp = ":".join(HTTPCLIENT_JARS)
    subprocess.run(["javac", "-d", str(tmp_path), "-cp", cp, os.path.join(JAVA_DIR, "PooledPosts.java")],
                   check=True, timeout=120)
    b = berth("--caller-idle-timeout", "1s")
    count = 8
    out = subprocess.run(["java", "-cp", f"{tmp_path}:{cp}", "PooledPosts", b.proxy[0], str(b.proxy[1]),
                          f"http://{origin.hostport}", str(count), "1200"],
                         capture_output=True, text=True, timeout=120).stdout
    assert f"ok {count} failed 0" in out, out
    assert "keep-alive timeout=1" in out, out


def test_berths_own_error_answers_announce_too(berth, origin):
    """An answer of berth's own on a kept connection (a 502 for a refused connect) tells the caller the same
    timeout: without it, HttpClient would keep that connection for ever and meet berth's idle close."""
    from berthkit import free_port
    b = berth("--caller-idle-timeout", "30s")
    c = RawClient(b.proxy)
    try:
        r = c.request(get_req(f"127.0.0.1:{free_port()}", "/refused"))
        assert r.status == 502 and r.header("Berth-Error") == "connect-refused", r
        assert (r.header("Connection") or "").lower() != "close", r.headers
        assert keepalive_header(r) == "timeout=29", r.headers
        r = c.request(get_req(origin.hostport, "/after"))  # the same connection goes on
        assert r.status == 200 and keepalive_header(r) == "timeout=29", r.headers
    finally:
        c.close()
    r10 = raw_request(b.proxy, get_req(f"127.0.0.1:{free_port()}", "/refused10", version="HTTP/1.0",
                                       extra=b"Connection: keep-alive\r\n"))
    assert r10.status == 502 and keepalive_header(r10) is None, r10.headers
