"""Unix domain sockets with real clients: curl --unix-socket and http.client over AF_UNIX for callers and the admin
API, a Node.js `server.listen(path)` upstream; socket file modes, a stale file, a live path, bad paths, shutdown."""
import json
import os
import signal
import socket
import time

import pytest

from berthkit import UnixHTTPConnection, closing_factory, stats
from unix_helpers import (NOBODY, NodeUpstream, as_nobody, berth_binary, connect_error, curl, is_socket,
                          leave_stale_socket, mode_of, request, run_berth, shared_tmpdir)

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a process as another user")


@pytest.fixture
def tmp():
    import shutil
    d = shared_tmpdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def berths(berth):
    """Factory: berths(*args, popen_kw=None) -> Berth (tests/berthkit/process.py) on berth's own default --listen unless
    the args name one; with popen_kw (as_nobody()) run as that user from a copy of the binary it may execute. All are
    stopped at teardown, their stderr printed for failures (the `berth` fixture)."""
    def make(*args, popen_kw=None):
        return berth(*args, listen=None, binary=berth_binary(popen_kw), popen_kw=popen_kw)

    return make


@pytest.fixture
def node(tmp):
    yield from closing_factory(lambda path, **kw: NodeUpstream(tmp, path, **kw), close=lambda u: u.stop())


# ------------------------------------------------------------------------------------------------------ callers

def test_curl_reaches_an_origin_through_a_unix_listener(berths, origin, tmp):
    sock = f"{tmp}/proxy.sock"
    b = berths("--listen", f"unix:{sock}")
    assert b.ready_line.startswith(f"berth listening proxy=unix:{sock} admin=127.0.0.1:"), b.ready_line
    assert f"listen=unix:{sock}" in b.wait_log('msg="berth started"')[0]
    r = curl("--unix-socket", sock, f"http://{origin.hostport}/via-host")
    assert r.returncode == 0 and r.stdout == "hello /via-host", r
    # curl's -x takes no socket path, so the absolute form is sent by hand, as an HTTP_PROXY client would send it.
    r = curl("--unix-socket", sock, "--request-target", f"http://{origin.hostport}/absolute", f"http://{origin.hostport}/")
    assert r.stdout == "hello /absolute", r


def test_http_client_over_af_unix_keeps_its_connection(berths, origin, tmp):
    sock = f"{tmp}/proxy.sock"
    b = berths("--listen", f"unix:{sock}")
    c = UnixHTTPConnection(sock)
    for i in range(5):
        c.request("GET", f"/k{i}", headers={"Host": origin.hostport})
        r = c.getresponse()
        assert (r.status, r.read()) == (200, f"hello /k{i}".encode())
    c.close()
    doc = stats(b, timeout=5)
    assert doc["totals"]["callers_accepted"] == 1 and doc["totals"]["requests_received"] == 5, doc["totals"]


def test_socket_files_get_their_modes_and_owner(berths, tmp):
    proxy, admin = f"{tmp}/p.sock", f"{tmp}/a.sock"
    b = berths("--listen", f"unix:{proxy}", "--admin", f"unix:{admin}")
    assert (mode_of(proxy), mode_of(admin)) == (0o660, 0o600)
    b.stop()
    owner = f"{NOBODY}:{NOBODY}" if os.geteuid() == 0 else f":{os.getegid()}"
    berths("--listen", f"unix:{proxy}", "--admin", f"unix:{admin}", "--listen-socket-mode", "0666",
           "--admin-socket-mode", "0640", "--admin-socket-owner", owner)
    assert (mode_of(proxy), mode_of(admin)) == (0o666, 0o640)
    st = os.lstat(admin)
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (NOBODY, NOBODY)
    else:
        assert st.st_gid == os.getegid()


@ROOT_ONLY
def test_the_proxy_socket_mode_decides_who_may_connect(berths, origin, tmp):
    sock = f"{tmp}/p.sock"
    url = f"http://{origin.hostport}/who"
    b = berths("--listen", f"unix:{sock}")
    assert connect_error(sock, as_other_user=True) == "EACCES"
    b.stop()
    berths("--listen", f"unix:{sock}", "--listen-socket-mode", "0666")
    assert curl("--unix-socket", sock, url, user_kw=as_nobody()).stdout == "hello /who"


def test_a_stale_socket_file_is_replaced(berths, origin, tmp):
    sock = f"{tmp}/p.sock"
    leave_stale_socket(sock)
    berths("--listen", f"unix:{sock}")
    assert curl("--unix-socket", sock, f"http://{origin.hostport}/fresh").stdout == "hello /fresh"


def test_a_path_another_berth_listens_on_is_refused(berths, origin, tmp):
    sock = f"{tmp}/p.sock"
    berths("--listen", f"unix:{sock}")
    second = run_berth(["--profile", "same-region", "--listen", f"unix:{sock}", "--admin", "127.0.0.1:0"])
    assert second.returncode != 0
    assert f"another process is listening on {sock} (is another berth running?)" in second.stderr, second.stderr
    assert is_socket(sock), "the refused berth removed the running one's socket file"
    assert curl("--unix-socket", sock, f"http://{origin.hostport}/still").stdout == "hello /still"


@pytest.mark.parametrize("case", ["missing-directory", "not-a-socket", "unwritable", "relative"])
def test_bad_paths_get_clear_errors(tmp, case):
    kw = {}
    if case == "missing-directory":
        path, expected = f"{tmp}/no/such/dir/p.sock", f"the directory {tmp}/no/such/dir does not exist"
    elif case == "not-a-socket":
        path, expected = f"{tmp}/p.sock", "exists and is not a socket; berth replaces only a stale socket file"
        open(path, "w").close()
    elif case == "unwritable":
        os.makedirs(f"{tmp}/ro")
        os.chmod(f"{tmp}/ro", 0o555)
        path, expected, kw = f"{tmp}/ro/p.sock", f"may not create files in {tmp}/ro (permission denied)", as_nobody()
    else:
        path, expected = "p.sock", '--listen: "p.sock": a Unix socket path must be absolute'
    r = run_berth(["--profile", "same-region", "--listen", f"unix:{path}", "--admin", "127.0.0.1:0"], popen_kw=kw)
    assert r.returncode != 0 and expected in r.stderr, r.stderr
    if case == "not-a-socket":
        assert os.path.isfile(path), "berth removed a file that was not its socket"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_removes_the_socket_files(berths, tmp, sig):
    proxy, admin = f"{tmp}/p.sock", f"{tmp}/a.sock"
    b = berths("--listen", f"unix:{proxy}", "--admin", f"unix:{admin}", "--workers", "2")
    assert is_socket(proxy) and is_socket(admin)
    assert b.stop(sig) == 0
    assert not os.path.exists(proxy) and not os.path.exists(admin)


def epoll_sockets(pid):
    """For each epoll instance of `pid` (one per worker loop), how many sockets it watches."""
    counts = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:[eventpoll]":
            continue
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            watched = [int(line.split()[1]) for line in f if line.startswith("tfd:")]
        counts.append(sum(1 for t in watched if os.readlink(f"/proc/{pid}/fd/{t}").startswith("socket:")))
    return sorted(counts)


def test_two_workers_accept_from_one_unix_socket(berths, origin, tmp):
    sock = f"{tmp}/p.sock"
    b = berths("--listen", f"unix:{sock}", "--workers", "2")
    before = epoll_sockets(b.proc.pid)
    assert len(before) == 2, before
    callers = []
    for i in range(16):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(sock)
        s.sendall(f"GET /c{i} HTTP/1.1\r\nHost: {origin.hostport}\r\n\r\n".encode())
        assert s.recv(4096).startswith(b"HTTP/1.1 200"), i
        callers.append(s)
    time.sleep(0.2)
    grown = [a - b_ for a, b_ in zip(sorted(epoll_sockets(b.proc.pid)), before)]
    # Callers and their upstream connections: each worker took some, none was left out.
    assert sum(grown) >= 16 and min(grown) > 0, (before, grown)
    for s in callers:
        s.close()


# -------------------------------------------------------------------------------------------------------- admin

def test_the_admin_socket_needs_no_token_and_logs_each_mutation_with_the_peer(berths, origin, tmp):
    admin = f"{tmp}/a.sock"
    b = berths("--listen", "127.0.0.1:0", "--admin", f"unix:{admin}")
    r = curl("--unix-socket", admin, "http://berth/healthz")
    assert r.stdout.strip() == '{"status":"ok"}', r
    assert json.loads(curl("--unix-socket", admin, "http://berth/stats").stdout)["totals"]["upstreams"] == 0
    status, _, body = request(admin, "POST", f"/pause?upstream={origin.hostport}")
    assert status == 200 and json.loads(body)["state"] == "paused"
    line = b.wait_log('msg="admin command"')[0]
    assert f'target="/pause?upstream={origin.hostport}"' in line and "status=200" in line, line
    assert f"peer=unix peer_gid={os.getgid()} peer_pid={os.getpid()} peer_uid={os.getuid()}" in line, line
    r = curl("--unix-socket", admin, "-X", "POST", f"http://berth/resume?upstream={origin.hostport}")
    assert json.loads(r.stdout)["state"] == "active"
    lines = b.wait_log("/resume?upstream=")
    assert "peer_pid=" in lines[0] and f"peer_uid={os.getuid()}" in lines[0]
    assert len(b.wait_log('msg="admin command"')) == 2, "a read (/stats, /healthz) was logged as a command"


def test_a_configured_token_is_still_checked_on_the_admin_socket(berths, origin, tmp):
    admin, token = f"{tmp}/a.sock", f"{tmp}/token"
    with open(token, "w") as f:
        f.write("s3cret\n")
    os.chmod(token, 0o600)
    b = berths("--admin", f"unix:{admin}", "--admin-token-file", token)
    assert request(admin, "POST", f"/evict?upstream={origin.hostport}")[0] == 401
    assert request(admin, "GET", "/stats")[0] == 401
    status, _, _ = request(admin, "POST", f"/evict?upstream={origin.hostport}", headers={"Authorization": "Bearer s3cret"})
    assert status == 200
    lines = b.wait_log('msg="admin command"')
    assert "status=401" in lines[0] and "status=200" in b.wait_log("status=200")[0], lines


@ROOT_ONLY
def test_the_admin_socket_is_closed_to_other_users_by_default(berths, tmp):
    admin = f"{tmp}/a.sock"
    berths("--admin", f"unix:{admin}")
    assert connect_error(admin, as_other_user=True) == "EACCES"
    assert connect_error(admin, as_other_user=False) == ""


# ---------------------------------------------------------------------------------------------------- upstreams

def unix_config(tmp, *destinations, extra=""):
    path = f"{tmp}/berth.yaml"
    with open(path, "w") as f:
        f.write("profile: same-region-failover\n" + extra + "destinations:\n")
        for match, sock in destinations:
            f.write(f"  - {{match: \"{match}\", unix: {sock}}}\n")
    return path


def test_a_node_upstream_on_a_unix_socket_is_pooled_under_its_host_and_port(berths, node, tmp):
    fn = f"{tmp}/fn42.sock"
    node(fn)
    admin = f"{tmp}/a.sock"
    berths("--config", unix_config(tmp, ("fn-42:8080", fn)), "--listen", f"unix:{tmp}/p.sock", "--admin", f"unix:{admin}")
    c = UnixHTTPConnection(f"{tmp}/p.sock")
    seen = []
    for i in range(3):
        c.request("GET", f"http://fn-42:8080/r{i}")
        r = c.getresponse()
        assert r.status == 200
        seen.append(json.loads(r.read()))
    c.close()
    assert [s["conn"] for s in seen] == [1, 1, 1], "the upstream connection was not reused"
    assert seen[0]["host"] == "fn-42:8080" and seen[2]["url"] == "/r2"
    up = stats(admin, "fn-42:8080")["upstreams"][0]
    assert up["upstream"] == "fn-42:8080" and up["connections"]["opened"] == 1 and up["connections"]["reused"] == 2, up


def test_pause_resume_evict_and_the_idle_watch_work_on_a_unix_upstream(berths, node, tmp):
    fn, admin = f"{tmp}/fn.sock", f"{tmp}/a.sock"
    node(fn, keep_alive_ms=300)
    berths("--config", unix_config(tmp, ("fn-1:80", fn)), "--listen", f"unix:{tmp}/p.sock", "--admin", f"unix:{admin}")
    proxy = f"{tmp}/p.sock"
    get = lambda: request(proxy, "GET", "/x", headers={"Host": "fn-1"})
    assert json.loads(get()[2])["conn"] == 1
    status, _, body = request(admin, "POST", "/pause?upstream=fn-1:80&mode=reject")
    assert json.loads(body)["closed_idle"] == 1
    status, headers, _ = get()
    assert (status, headers.get("berth-error")) == (503, "upstream-paused")
    request(admin, "POST", "/resume?upstream=fn-1:80")
    assert json.loads(get()[2])["conn"] == 2, "a connection from before the pause was reused"
    assert json.loads(request(admin, "POST", "/evict?upstream=fn-1:80")[2])["closed"] == 1
    assert json.loads(get()[2])["conn"] == 3
    # Node closes its idle connection after 300 ms: berth's idle watch sees the EOF and drops it from the pool.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        up = stats(admin, "fn-1:80")["upstreams"][0]
        if up["connections"]["closed"]["peer-closed-idle"] == 1:
            break
        time.sleep(0.05)
    assert up["connections"]["closed"]["peer-closed-idle"] == 1 and up["open"] == 0, up
    assert json.loads(get()[2])["conn"] == 4


def test_unix_upstream_errors_have_their_causes(berths, node, tmp):
    missing, stale, closed = f"{tmp}/missing.sock", f"{tmp}/stale.sock", f"{tmp}/closed.sock"
    leave_stale_socket(stale)
    os.chmod(stale, 0o666)
    node(closed, mode="0600")
    conf = unix_config(tmp, ("gone:80", missing), ("stale:80", stale), ("closed:80", closed))
    # Root passes every permission check: berth runs as nobody (who may not write to closed.sock, 0600 root's),
    # with its own sockets in a directory of its own.
    run = f"{tmp}/run"
    os.makedirs(run)
    if os.geteuid() == 0:
        os.chown(run, NOBODY, NOBODY)
    proxy, admin = f"{run}/p.sock", f"{run}/a.sock"
    berths("--config", conf, "--listen", f"unix:{proxy}", "--admin", f"unix:{admin}",
           "--listen-socket-mode", "0666", "--admin-socket-mode", "0666", popen_kw=as_nobody())
    for host, cause, detail in [("gone", "connect-refused", "No such file or directory"),
                                ("stale", "connect-refused", "Connection refused"),
                                ("closed", "connect-denied", "Permission denied")]:
        status, headers, body = request(proxy, "GET", "/", headers={"Host": host})
        assert (status, headers.get("berth-error")) == (502, cause), (host, body)
        assert detail in body.decode(), body
    doc = stats(admin)
    assert doc["totals"]["errors"]["connect-denied"] == 1 and doc["totals"]["errors"]["connect-refused"] == 2, doc["totals"]


def test_connect_tunnels_to_a_unix_upstream(berths, node, tmp):
    fn = f"{tmp}/fn.sock"
    node(fn)
    berths("--config", unix_config(tmp, ("fn-9:8080", fn)), "--listen", f"unix:{tmp}/p.sock", "--connect-port", "8080")
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(f"{tmp}/p.sock")
    s.sendall(b"CONNECT fn-9:8080 HTTP/1.1\r\nHost: fn-9:8080\r\n\r\n")
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    s.sendall(b"GET /inside HTTP/1.1\r\nHost: fn-9:8080\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    assert b'"url":"/inside"' in data, data


def test_check_config_prints_the_destination_socket(tmp):
    conf = unix_config(tmp, ("fn-42:8080", "/run/fn/42/http.sock"), extra=f"listen: unix:{tmp}/p.sock\n")
    r = run_berth(["check-config", conf])
    assert r.returncode == 0, r.stderr
    assert f'listen: "unix:{tmp}/p.sock"' in r.stdout and 'listen-socket-mode: "0660"' in r.stdout
    assert '  - match: "fn-42:8080"\n    unix: /run/fn/42/http.sock' in r.stdout, r.stdout


def test_the_image_healthcheck_probes_an_admin_socket(berths, tmp):
    """deploy/docker/berth-healthcheck, as the Kubernetes example's exec probes run it against admin.sock."""
    import subprocess
    helper = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "docker", "berth-healthcheck")
    admin = f"{tmp}/a.sock"
    berths("--admin", f"unix:{admin}")
    probe = lambda path, addr: subprocess.run([helper, path], env={"PATH": os.environ["PATH"], "BERTH_ADMIN": addr},
                                              capture_output=True, text=True, timeout=20)
    assert probe("/healthz", f"unix:{admin}").returncode == 0
    r = probe("/nope", f"unix:{admin}")
    assert r.returncode == 1 and "404 Not Found" in r.stderr, r
    r = probe("/healthz", f"unix:{tmp}/none.sock")
    assert r.returncode == 1 and f"cannot connect to unix:{tmp}/none.sock" in r.stderr, r
