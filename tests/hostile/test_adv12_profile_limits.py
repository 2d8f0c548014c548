"""A `max-total` below the profile's `max-per-route` starts, the per-route limit following it down (adv12).

Every profile sets `max-total` 200 and `max-per-route` 100, so `berth --profile same-region --max-total 50` (an
operator lowering the one limit they know) stopped with status 64 and `max-per-route (100) exceeds max-total (50)`,
naming a value the operator never wrote. As the acquire timeout follows the connect timeout, a `max-per-route` that
comes from the profile now follows a lower `max-total`; one written out that exceeds it is still refused, with the
value to write."""
import subprocess

import pytest

from berthkit import BERTH_BIN


def check(tmp_path, *flags, env=None):
    config = tmp_path / "berth.yaml"
    config.write_text("profile: same-region\n")
    return subprocess.run([BERTH_BIN, "check-config", str(config), *flags], capture_output=True, text=True,
                          timeout=30, env=env)


def setting(out, key):
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith(key + ": "))


@pytest.mark.parametrize("flags", [["--max-total", "50"], ["--max-total", "1"], ["--max-total", "8", "--workers", "8"]])
def test_a_lower_max_total_takes_the_profiles_max_per_route_down_with_it(tmp_path, flags):
    done = check(tmp_path, *flags)
    assert done.returncode == 0, done.stderr
    assert setting(done.stdout, "max-per-route") == setting(done.stdout, "max-total") == flags[1]


def test_a_max_per_route_written_above_max_total_is_still_refused_with_the_value_to_write(tmp_path):
    done = check(tmp_path, "--max-total", "50", "--max-per-route", "60")
    assert done.returncode == 64, done.stdout
    assert "max-per-route (60) exceeds max-total (50)" in done.stderr and "at most 50" in done.stderr, done.stderr


def test_a_higher_max_total_keeps_the_profiles_max_per_route(tmp_path):
    done = check(tmp_path, "--max-total", "500")
    assert done.returncode == 0, done.stderr
    assert setting(done.stdout, "max-per-route") == "100"
