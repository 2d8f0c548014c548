"""A negative value given to a flag is judged as a value, not reported missing (adv12).

`--socket-timeout -1s` and `--max-total -1` were read by the argument parser as a flag named `-1s` or `-1`, so berth
said `Missing value for '--socket-timeout <duration>'` of a value that was there, where `BERTH_SOCKET_TIMEOUT=-1s`
and `socket-timeout: -1s` get the duration parser's own answer (`"-1s" is negative; every timeout must be
positive`). A single-valued flag now takes the next argument as its value whatever it starts with."""
import subprocess

import pytest

from berthkit import BERTH_BIN

CASES = {
    "--socket-timeout": ("-1s", '--socket-timeout: "-1s" is negative'),
    "--max-total": ("-1", '--max-total: "-1"'),
    "--workers": ("-3", '--workers: "-3"'),
    "--listen": ("-1", '--listen: "-1"'),
}


@pytest.mark.parametrize("flag", sorted(CASES))
def test_a_negative_flag_value_gets_the_values_own_error(tmp_path, flag):
    value, message = CASES[flag]
    config = tmp_path / "berth.yaml"
    config.write_text("profile: same-region\n")
    done = subprocess.run([BERTH_BIN, "check-config", str(config), flag, value], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 64, done.stdout
    assert message in done.stderr and "Missing value" not in done.stderr, done.stderr


def test_a_flag_with_no_value_at_the_end_is_still_a_usage_error(tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("profile: same-region\n")
    done = subprocess.run([BERTH_BIN, "check-config", str(config), "--max-total"], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 64 and "Missing value" in done.stderr, done.stderr
