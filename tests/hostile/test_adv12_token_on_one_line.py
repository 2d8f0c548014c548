"""An admin token file whose token spans lines is refused at start, not taken as a token no client can send (adv12).

The token is the file's contents with surrounding whitespace removed, so a file holding `abc` on one line and `def` on
the next (two tokens pasted, a PEM-like wrap, CRLF in the middle) was taken as `abc\\ndef`. A header field cannot carry
a line break: every admin request, the probes' berth-healthcheck and `berth ctl` included, got 401 for good, and
`berth ctl` wrote the second line into its request head as a field of its own. Such a token is now refused with the
file named, at start, by check-config and on a reload; the token itself is never printed."""
import subprocess

import pytest

from berthkit import BERTH_BIN

BAD = {"LF": "abc\ndef\n", "CRLF": "abc\r\ndef\r\n", "NUL": "abc\x00def", "vertical tab": "abc\x0bdef"}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_token_with_a_control_character_inside_is_refused(tmp_path, case):
    token = tmp_path / "token"
    token.write_bytes(BAD[case].encode())
    token.chmod(0o600)
    config = tmp_path / "berth.yaml"
    config.write_text("profile: same-region\n")
    done = subprocess.run([BERTH_BIN, "check-config", str(config), "--admin-token-file", str(token)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 64, done.stdout
    assert str(token) in done.stderr and "control character" in done.stderr, done.stderr
    assert "def" not in done.stderr.replace(str(tmp_path), ""), done.stderr


@pytest.mark.parametrize("text", ["abc\n", "  abc def \r\n", "\tabc\t\n"])
def test_a_token_on_one_line_is_taken(tmp_path, text):
    token = tmp_path / "token"
    token.write_text(text)
    token.chmod(0o600)
    config = tmp_path / "berth.yaml"
    config.write_text("profile: same-region\n")
    done = subprocess.run([BERTH_BIN, "check-config", str(config), "--admin-token-file", str(token)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_berth_ctl_refuses_a_token_spanning_lines_instead_of_sending_it(tmp_path):
    import socket
    token = tmp_path / "token"
    token.write_bytes(b"abc\r\nX-Injected: 1\r\n")
    token.chmod(0o600)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    try:
        port = listener.getsockname()[1]
        done = subprocess.run([BERTH_BIN, "ctl", "stats", "--admin", f"127.0.0.1:{port}", "--token-file", str(token),
                               "--timeout", "2"], capture_output=True, text=True, timeout=30)
        assert done.returncode == 64, (done.returncode, done.stderr)
        assert "control character" in done.stderr, done.stderr
        with pytest.raises(socket.timeout):
            listener.accept()  # nothing was sent
    finally:
        listener.close()
