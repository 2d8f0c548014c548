"""A `via` value that is not one header field value is refused, not written into every forwarded request (adv12).

`--via $'1.1 x\\r\\nX-Evil: 1'` (or `BERTH_VIA`, or `via: "1.1 x\\r\\nX-Evil: 1"` in the file) was taken as given,
and berth wrote it into the Via field of every request it forwarded: the origin read a second field, `X-Evil`, that no
caller sent (a configuration-made header injection; a bare CR, LF or NUL splits or ends heads in other parsers too),
and check-config printed a line break inside its `via:` value, so its output no longer read back. Control characters
are now refused wherever the value comes from."""
import subprocess

import pytest

from berthkit import BERTH_BIN

BAD = {
    "CRLF": "1.1 x\r\nX-Evil: 1",
    "LF": "1.1 x\nX-Evil: 1",
    "CR": "1.1 x\rX",
    "NUL": "1.1 x\x00y",
    "DEL": "1.1 x\x7fy",
    "ESC": "1.1 \x1b[31mx",
}


def check(tmp_path, flags=(), env=None, text="profile: same-region\n"):
    config = tmp_path / "berth.yaml"
    config.write_text(text)
    return subprocess.run([BERTH_BIN, "check-config", str(config), *flags], capture_output=True, timeout=30, env=env)


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_via_with_a_control_character_is_refused_as_a_flag_and_in_the_file(tmp_path, case):
    value = BAD[case]
    if "\x00" not in value:  # an argument cannot carry a NUL byte
        done = check(tmp_path, ["--via", value])
        assert done.returncode == 64, done.stdout
        assert b"--via:" in done.stderr and b"control character" in done.stderr, done.stderr
    escaped = value.encode("unicode_escape").decode().replace('"', '\\"')
    done = check(tmp_path, text=f'profile: same-region\nvia: "{escaped}"\n')
    assert done.returncode == 64, done.stdout
    assert b"via:" in done.stderr and b"control character" in done.stderr, done.stderr


@pytest.mark.parametrize("value", ["1.1 berth", "1.1 edge (berth sidecar)", "HTTP/1.1 proxy.internal:3128", "berth",
                                   "1.1\tberth"])
def test_ordinary_via_values_are_taken(tmp_path, value):
    done = check(tmp_path, ["--via", value])
    assert done.returncode == 0, done.stderr
