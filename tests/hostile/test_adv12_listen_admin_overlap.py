"""`listen` and `admin` on one port under two spellings are refused as a configuration error naming both (adv12).

`--listen 0.0.0.0:P --admin 127.0.0.1:P` (the wildcard covers the loopback address) or `--listen localhost:P
--admin 127.0.0.1:P` passed validation, which compared the text of the two addresses only, and the admin's bind then
failed: `Error: bind 127.0.0.1:P: Address already in use`, exit status 1, which reads as another process holding the
port. berth itself held it. Now both are refused before anything binds, with status 64 and a message that names the
two settings."""
import socket
import subprocess

import pytest

from berthkit import BERTH_BIN, Berth


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


OVERLAPS = {
    "wildcard listen, loopback admin": ("0.0.0.0", "127.0.0.1"),
    "empty host listen, loopback admin": ("", "127.0.0.1"),
    "loopback listen, wildcard admin": ("127.0.0.1", "0.0.0.0"),
    "localhost and 127.0.0.1": ("localhost", "127.0.0.1"),
    "IPv6 wildcard and ::1": ("[::]", "[::1]"),
    "one IPv6 address spelled twice": ("[::1]", "[0:0::1]"),
}


@pytest.mark.parametrize("case", sorted(OVERLAPS))
def test_listen_and_admin_on_one_port_are_a_configuration_error(tmp_path, case):
    listen_host, admin_host = OVERLAPS[case]
    port = free_port()
    token = tmp_path / "token"
    token.write_text("secret-adv12\n")
    token.chmod(0o600)
    done = subprocess.run(
        [BERTH_BIN, "--profile", "same-region", "--listen", f"{listen_host}:{port}", "--admin", f"{admin_host}:{port}",
         "--allow", "10.0.0.0/8", "--admin-token-file", str(token)],
        capture_output=True, text=True, timeout=30)
    assert done.returncode == 64, (done.returncode, done.stderr[-600:])
    assert "listen " in done.stderr and "and admin " in done.stderr and f"same port {port}" in done.stderr, done.stderr[-600:]


def test_listen_and_admin_on_one_port_of_different_addresses_or_families_still_start():
    port = free_port()
    # IPV6_V6ONLY: [::] does not take IPv4, so 127.0.0.1:P and [::1]:P are two listeners.
    b = Berth(["--profile", "same-region", "--listen", f"127.0.0.1:{port}", "--admin", f"[::1]:{port}"])
    assert b.stop() == 0


UNIX_SPELLINGS = {
    "a doubled slash": "{d}//p.sock",
    "a dot": "{d}/./p.sock",
    "a dot-dot": "{d}/sub/../p.sock",
    "a symlinked directory": "{d}/link/p.sock",
}


@pytest.mark.parametrize("case", sorted(UNIX_SPELLINGS))
def test_listen_and_admin_on_one_socket_file_under_two_spellings_are_a_configuration_error(tmp_path, case):
    (tmp_path / "sub").mkdir()
    (tmp_path / "link").symlink_to(tmp_path)
    admin = UNIX_SPELLINGS[case].format(d=tmp_path)
    done = subprocess.run([BERTH_BIN, "--profile", "same-region", "--listen", f"unix:{tmp_path}/p.sock",
                           "--admin", f"unix:{admin}"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 64, (done.returncode, done.stderr[-600:])
    assert "the same socket file" in done.stderr, done.stderr[-600:]
    assert not (tmp_path / "p.sock").exists()
