"""Files named by the admin API or the configuration that are not regular files (FIFO, device, directory): a prompt 400 or config error, never a blocked loop."""
import os
import subprocess

import pytest

from berthkit import LOOPBACK_FLAGS, spawn
from hostile_wire import connect, read_to_end, status_of

BASE = list(LOOPBACK_FLAGS)


def release(fifo):
    """Opens and closes the FIFO's writing end, so that a berth blocked in open() or read() on it moves on."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass  # nobody is reading it


def ask(addr, raw, timeout=10):
    """One request on a fresh connection; (answer, how the connection ended)."""
    s = connect(addr, timeout=timeout)
    try:
        s.sendall(raw)
        return read_to_end(s, timeout=timeout)
    finally:
        s.close()


def run(args, fifo=None, timeout=10):
    """berth with `args`, until it exits or `timeout` (then it is killed): (exit status or 'hung' or 'started', stderr)."""
    p = spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, err
    except subprocess.TimeoutExpired:
        if fifo:
            release(fifo)
        p.kill()
        out, err = p.communicate(timeout=10)
        return ("started" if out.startswith("berth listening") else "hung"), err


def test_watch_on_a_fifo_cgroup_events_is_400_and_the_loop_keeps_serving(berth, origin, tmp_path):
    b = berth()
    fifo = str(tmp_path / "cgroup.events")
    os.mkfifo(fifo)
    try:
        raw, how = ask(b.admin, f"POST /watch?upstream={origin.hostport}&cgroup={tmp_path} HTTP/1.1\r\n"
                                "Host: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        assert how == "fin", f"no answer to POST /watch on a FIFO within 10 s ({how}): the loop is blocked in open()"
        assert status_of(raw) == 400, raw[:300]
        assert b"not a regular file (a FIFO)" in raw and fifo.encode() in raw, raw[:300]
        # The one worker's loop still serves the proxy.
        got, how = ask(b.proxy, f"GET http://{origin.hostport}/ HTTP/1.1\r\nHost: {origin.hostport}\r\n"
                                "Connection: close\r\n\r\n".encode())
        assert status_of(got) == 200, (how, got[:300])
    finally:
        release(fifo)


def test_a_freezer_setting_on_a_fifo_stops_the_start_with_its_reason(tmp_path):
    fifo = str(tmp_path / "cgroup.events")
    os.mkfifo(fifo)
    config = tmp_path / "berth.yaml"
    config.write_text(f'destinations:\n  - {{match: "127.0.0.1:9", freezer: {tmp_path}}}\n')
    code, err = run(BASE + ["--config", str(config)], fifo=fifo)
    assert code == 64, (code, err)
    assert "not a regular file (a FIFO)" in err and fifo in err, err


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_an_admin_token_file_that_is_not_a_regular_file_is_a_config_error(tmp_path, kind):
    path = str(tmp_path / "token")
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    elif kind == "directory":
        os.mkdir(path, 0o700)
    else:
        path = "/dev/null"
    expected = {"fifo": "a FIFO", "directory": "a directory", "device": "a character device"}[kind]
    code, err = run(BASE + ["--admin-token-file", path], fifo=path if kind == "fifo" else None)
    assert code == 64, (code, err)
    assert f"admin-token-file: cannot read {path}: not a regular file ({expected})" in err, err
    config = tmp_path / "berth.yaml"
    config.write_text(f"profile: same-region-failover\nadmin-token-file: {path}\n")
    code, err = run(["check-config", str(config)], fifo=path if kind == "fifo" else None)
    assert code == 64, (code, err)
    assert f"{config}:2: admin-token-file: cannot read {path}: not a regular file ({expected})" in err, err


def test_a_tls_ca_file_that_is_a_fifo_is_a_config_error_with_its_line(tmp_path):
    fifo = str(tmp_path / "ca.pem")
    os.mkfifo(fifo)
    config = tmp_path / "berth.yaml"
    config.write_text("profile: same-region-failover\ndestinations:\n  - match: \"127.0.0.1:9443\"\n"
                      f"    tls:\n      ca-file: {fifo}\n")
    code, err = run(["check-config", str(config)], fifo=fifo)
    assert code == 64, (code, err)
    assert f"{config}:5: " in err and "ca-file" in err and "not a regular file (a FIFO)" in err, err
