"""`berth ctl --admin NAME` bounds the name's lookup by --timeout as it bounds the connect: a resolver that never
answers held ctl for the resolver's own timeouts (resolv.conf's timeout x attempts, 15 s here) whatever --timeout said."""
import os
import shutil
import socket
import subprocess
import time

import pytest

from berthkit import BERTH_BIN


@pytest.fixture
def silent_resolver(tmp_path):
    """A resolv.conf whose one nameserver (a loopback UDP socket) reads queries and never answers, and the command
    prefix that runs a process with it (a private mount namespace), or a skip where that cannot be made."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a private /etc/resolv.conf")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("127.0.0.77", 53))
    except OSError as e:
        sock.close()
        pytest.skip(f"cannot bind a resolver on 127.0.0.77:53: {e}")
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.77\noptions timeout:5 attempts:3\n")
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    script = f"mount --bind {conf} /etc/resolv.conf && mount --bind {hosts} /etc/hosts && exec \"$@\""
    yield ("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh")
    sock.close()


def test_a_lookup_that_never_ends_is_cut_at_the_timeout(silent_resolver):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    start = time.monotonic()
    p = subprocess.run([*silent_resolver, BERTH_BIN, "ctl", "stats", "--admin", "admin.never.test:9901",
                        "--timeout", "1"], capture_output=True, text=True, timeout=60, env=env)
    took = time.monotonic() - start
    # The resolver alone would take 15 s; a bound of 1 s leaves ctl well under 10 s on any machine.
    assert took < 10, (took, p.stderr)
    assert p.returncode != 0 and "admin.never.test" in p.stderr, (p.returncode, p.stderr)
    assert "resolve" in p.stderr, p.stderr
