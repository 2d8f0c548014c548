"""Operator input that berth took silently or judged two ways: destination entries (adv12).

A key written twice inside one `destinations:` entry (`{match: a, socket-timeout: 1s, socket-timeout: 9s}`) was
taken with the last value winning, where the same key written twice at the top level is refused; two entries with
the same `match` were both taken though only the first can ever apply, so editing the second changed nothing. Both
are refused now, at start, by `check-config` and on a reload (which keeps the running configuration)."""
import signal
import subprocess

import pytest

from berthkit import BERTH_BIN, Berth, wait_for

BAD_DESTINATIONS = {
    "a field twice in a flow entry": (
        "destinations:\n  - {match: \"a:80\", socket-timeout: 1s, socket-timeout: 9s}\n",
        "destinations[0].socket-timeout: appears twice"),
    "match twice in a block entry": (
        "destinations:\n  - match: a\n    socket-timeout: 2s\n    match: b\n",
        "destinations[0].match: appears twice (first on line 2)"),
    "two entries with one match": (
        "destinations:\n  - {match: \"a:80\", socket-timeout: 1s}\n  - {match: \"A:80\", socket-timeout: 9s}\n",
        "destinations[1].match: \"a:80\" is also the match of destinations[0] (line 2)"),
    "two entries with one match, one with a trailing dot": (
        "destinations:\n  - {match: api.internal}\n  - match: api.internal.\n    max-pending: 5\n",
        "destinations[1].match: \"api.internal\" is also the match of destinations[0] (line 2)"),
}


def check_config(path):
    return subprocess.run([BERTH_BIN, "check-config", "--profile", "same-region", str(path)],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("case", sorted(BAD_DESTINATIONS))
def test_check_config_refuses_a_destination_written_twice(tmp_path, case):
    text, message = BAD_DESTINATIONS[case]
    config = tmp_path / "berth.yaml"
    config.write_text(text)
    done = check_config(config)
    assert done.returncode == 64, (done.returncode, done.stdout, done.stderr)
    assert message in done.stderr, done.stderr


def test_distinct_destinations_are_still_taken(tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("destinations:\n  - {match: \"a:80\", socket-timeout: 1s}\n  - {match: a, socket-timeout: 2s}\n"
                      "  - {match: \"a:81\", socket-timeout: 3s}\n  - {match: 10.0.0.0/8}\n")
    done = check_config(config)
    assert done.returncode == 0, done.stderr


def test_a_reload_with_a_destination_written_twice_keeps_the_running_configuration(tmp_path):
    config = tmp_path / "berth.yaml"
    good = "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\ndestinations:\n  - {match: \"a:80\", socket-timeout: 1s}\n"
    config.write_text(good)
    b = Berth(["--profile", "same-region", "--config", str(config)])
    try:
        for case in sorted(BAD_DESTINATIONS):
            text, message = BAD_DESTINATIONS[case]
            config.write_text("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n" + text)
            mark = b.stderr_text().count("reload failed")
            b.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: b.stderr_text().count("reload failed") > mark or b.proc.poll() is not None, timeout=30,
                     what="the reload's outcome")
            assert b.proc.poll() is None, b.stderr_text()[-800:]
            # The log line escapes quotes, and the lines moved by two: compare the part before either.
            assert message.split('"')[0].split("(")[0] in b.stderr_text().split("reload failed")[-1], b.stderr_text()[-800:]
    finally:
        assert b.stop() == 0


# check-config said exit 0 for what the same start on the same host refused with 64: a `freezer:` that names no
# cgroup, and a descriptor limit that leaves no room for callers. It now runs the start's checks too.
def start_and_check(tmp_path, text, preexec=None):
    config = tmp_path / "berth.yaml"
    config.write_text("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n" + text)
    checked = subprocess.run([BERTH_BIN, "check-config", "--profile", "same-region", str(config)],
                             capture_output=True, text=True, timeout=30, preexec_fn=preexec)
    started = subprocess.run([BERTH_BIN, "--profile", "same-region", "--config", str(config)],
                             capture_output=True, text=True, timeout=30, preexec_fn=preexec)
    return checked, started


def test_check_config_refuses_a_freezer_the_start_refuses(tmp_path):
    missing = tmp_path / "no-such-cgroup"
    checked, started = start_and_check(
        tmp_path, f"destinations:\n  - {{match: \"a:80\", freezer: {missing}}}\n")
    assert started.returncode == 64 and "no such cgroup directory" in started.stderr, started.stderr
    assert checked.returncode == 64, (checked.stdout, checked.stderr)
    assert "destination a:80: freezer: no such cgroup directory" in checked.stderr, checked.stderr


def test_check_config_refuses_a_descriptor_limit_the_start_refuses(tmp_path):
    import resource

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (230, 230))

    checked, started = start_and_check(tmp_path, "", preexec=low_limit)
    assert started.returncode == 64 and "RLIMIT_NOFILE (230)" in started.stderr, started.stderr
    assert checked.returncode == 64, (checked.stdout, checked.stderr)
    assert "RLIMIT_NOFILE (230)" in checked.stderr, checked.stderr
