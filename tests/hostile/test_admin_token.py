"""The admin token file: refused when its group or others may read or change it, or another user owns it (as ssh, PostgreSQL)."""
import os
import subprocess

import pytest

from berthkit import BERTH_BIN, Berth, BerthDidNotStart
from hostile_wire import connect, read_to_end, status_of

TOKEN = "0123456789abcdef0123456789abcdef"


def start(token_path, timeout=20):
    """berth with `token_path` as its token file: (None, its ready line) when it starts (then it is stopped), else
    (its exit status, its stderr) once it exits, within `timeout`."""
    try:
        b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                   "--admin-token-file", token_path], ready_timeout=timeout)
    except BerthDidNotStart as e:
        return e.returncode, e.stderr
    b.stop()
    return None, b.ready_line


def write_token(tmp_path, mode, owner=None):
    path = tmp_path / "admin-token"
    path.write_text(TOKEN + "\n")
    path.chmod(mode)
    if owner is not None:
        os.chown(path, owner, -1)
    return str(path)


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o660, 0o666, 0o620])
def test_a_token_file_others_may_read_or_change_is_refused(tmp_path, mode):
    path = write_token(tmp_path, mode)
    code, stderr = start(path)
    assert code == 64, f"berth started (or failed otherwise: {code}) with a mode {mode:04o} token file: {stderr}"
    assert path in stderr and f"mode {mode:04o}" in stderr and "admin-token-file" in stderr, stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_token_file_another_user_owns_is_refused(tmp_path):
    path = write_token(tmp_path, 0o600, owner=12345)
    code, stderr = start(path)
    assert code == 64 and "owned by uid 12345" in stderr and path in stderr, (code, stderr)


def test_a_private_token_file_is_used(berth, tmp_path):
    # 0600 for berth's own user; as root, 0640 too (a Kubernetes Secret read through fsGroup).
    for mode in ([0o600, 0o400] + ([0o640, 0o440] if os.geteuid() == 0 else [])):
        path = write_token(tmp_path, mode)
        b = berth("--admin-token-file", path)
        s = connect(b.admin)
        s.sendall(f"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                  "Connection: close\r\n\r\n".encode())
        raw, _ = read_to_end(s)
        s.close()
        assert status_of(raw) == 200, (oct(mode), raw[:200])
        os.unlink(path)


def test_check_config_names_the_file_line_and_mode(tmp_path):
    token = write_token(tmp_path, 0o644)
    config = tmp_path / "berth.yaml"
    config.write_text(f"profile: same-region-failover\nadmin-token-file: {token}\n")
    out = subprocess.run([BERTH_BIN, "check-config", str(config)], capture_output=True, text=True, timeout=20)
    assert out.returncode != 0
    assert f"{config}:2: admin-token-file: {token} has mode 0644" in out.stderr, out.stderr
