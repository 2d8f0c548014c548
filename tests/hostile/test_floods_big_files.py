"""Files berth reads whole (configuration, admin token, TLS files) that are huge or never end: a prompt, clear
error and a bounded read, never gigabytes of memory; on SIGHUP the running configuration is kept."""
import os
import signal
import subprocess

from berthkit import BERTH_BIN, admin, wait_for

BASE = [BERTH_BIN, "--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]
HUGE = 256 << 20  # 256 MiB, sparse: no disk, but every byte reads as a NUL


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def sparse(path, size=HUGE):
    with open(path, "wb") as f:
        f.truncate(size)
    return str(path)


def test_a_huge_config_file_on_sighup_is_refused_quickly_and_the_running_one_kept(berth, origin, tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("max-per-route: 7\n")
    b = berth("--config", str(config))
    before = rss_kib(b.pid)
    sparse(config)
    b.proc.send_signal(signal.SIGHUP)
    try:
        wait_for(lambda: "reload failed" in b.stderr_text(), timeout=5, what="the reload's error")
    finally:
        grown = rss_kib(b.pid) - before if b.proc.poll() is None else None
    assert grown is not None and grown < 64 * 1024, f"RSS grew by {grown} KiB reading the file"
    err = b.stderr_text()
    assert "larger than" in err and str(config) in err, err[-600:]
    assert admin(b, "GET", "/healthz").status_code == 200


def test_a_huge_config_file_at_start_is_exit_64_with_its_reason(tmp_path):
    config = sparse(tmp_path / "berth.yaml")
    p = subprocess.run(BASE + ["--config", config], capture_output=True, text=True, timeout=20)
    assert p.returncode == 64, (p.returncode, p.stderr[-300:])
    assert "larger than" in p.stderr and config in p.stderr, p.stderr[-300:]


def test_a_huge_token_file_is_refused_by_check_config(tmp_path):
    token = sparse(tmp_path / "token")
    os.chmod(token, 0o600)
    config = tmp_path / "berth.yaml"
    config.write_text(f"profile: same-region-failover\nadmin-token-file: {token}\n")
    p = subprocess.run([BERTH_BIN, "check-config", str(config)], capture_output=True, text=True, timeout=20)
    assert p.returncode == 64, (p.returncode, p.stderr[-300:])
    assert f"cannot read {token}" in p.stderr and "larger than" in p.stderr, p.stderr[-300:]


def test_berth_ctl_with_a_fifo_token_file_fails_at_once(tmp_path):
    fifo = str(tmp_path / "token")
    os.mkfifo(fifo, 0o600)
    try:
        p = subprocess.run([BERTH_BIN, "ctl", "stats", "--admin", "127.0.0.1:9", "--token-file", fifo],
                           capture_output=True, text=True, timeout=5)
    except subprocess.TimeoutExpired:
        raise AssertionError("berth ctl hung in open() on a FIFO token file")
    assert p.returncode == 64, (p.returncode, p.stderr)
    assert "not a regular file (a FIFO)" in p.stderr, p.stderr


def test_a_yaml_error_names_its_place_without_echoing_the_file(tmp_path):
    """A control character in the file (or a /proc file given as the configuration) made the YAML error quote the
    whole line: megabytes in one log line, and whatever the file held (a secret, the environment) in the log."""
    config = tmp_path / "berth.yaml"
    config.write_text('profile: same-region-failover\nx: "TOPSECRET' + "a" * 100_000 + '\x01"\n')
    p = subprocess.run([BERTH_BIN, "check-config", str(config)], capture_output=True, text=True, timeout=20)
    assert p.returncode == 64, (p.returncode, p.stderr[-300:])
    assert len(p.stderr) < 1000 and "TOPSECRET" not in p.stderr, p.stderr[:300]
    assert f"{config}:2: " in p.stderr and "control characters" in p.stderr, p.stderr
