"""The key table through the real binary: every setting check-config prints has a flag in --help, reads back as
flags and as a file, and has a field on the startup log line. The keys come from check-config's own output, so a
new key is covered without an edit here."""
import os
import subprocess

import yaml

from berthkit import BERTH_BIN, wait_for

# A few non-default values, so that the round trip carries more than defaults; the keys themselves are not listed.
BASE = ["--profile", "max-timeout", "--allow", "10.0.0.0/8", "*.example.com", "--connect-port", "443", "8443",
        "--access-log", "--via", "1.1 edge", "--metrics-upstreams", "all", "--workers", "2"]
# The one log field that is not the key's name in snake_case (docs/configuration.md, Logging).
LOG_FIELD_RENAMES = {"connect-port": "connect_ports"}


def run(*args, env=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    clean.update(env or {})
    return subprocess.run([BERTH_BIN, *args], env=clean, capture_output=True, text=True, timeout=30)


def check_config(path, *flags, env=None):
    result = run("check-config", path, *flags, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def settings(rendered):
    """The settings lines of check-config output, without the file it read (a comment naming that path)."""
    return [line for line in rendered.splitlines() if not line.startswith("# config: ")]


def keys(rendered):
    """Every key check-config shows: `key: value` lines and `# key: value` comments, but not destinations."""
    names = []
    for line in rendered.splitlines():
        name = line.removeprefix("# ").split(":", 1)[0]
        if ":" in line and not line.startswith(" ") and name not in ("destinations", "admin token loaded from admin-token-file"):
            names.append(name)
    return names


def as_flags(rendered, help_text):
    """check-config output turned back into command-line flags."""
    flags = []
    for name, value in yaml.safe_load(rendered).items():
        if name == "destinations":
            continue
        if isinstance(value, list):
            flags += [f"--{name}", *map(str, value)] if value else []
        elif isinstance(value, bool) and f"--no-{name}" in help_text:
            flags.append(f"--{name}" if value else f"--no-{name}")
        else:
            # Two words, not --name=value: ArgumentParser reads `--via=` as a missing value, but `--via ""` as empty.
            flags += [f"--{name}", str(value).lower() if isinstance(value, bool) else str(value)]
    return flags


def test_help_lists_every_setting_with_its_variable(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n")
    help_text = run("--help").stdout
    check_help = run("check-config", "--help").stdout
    names = keys(check_config(str(empty), *BASE))
    assert "header-timeout" in names and "config" in names, names
    for name in names:
        variable = "BERTH_" + name.upper().replace("-", "_")
        for text in (help_text, check_help):
            assert f"--{name}" in text, f"--{name} missing from --help"
            assert f"[{variable}]" in text, f"{variable} missing from --help"


def test_every_rendered_setting_reads_back_as_flags_and_as_a_file(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n")
    first = check_config(str(empty), *BASE)
    flags = as_flags(first, run("--help").stdout)
    given = {word.removeprefix("--no-").removeprefix("--") for word in flags if word.startswith("--")}
    empty_lists = {name for name, value in yaml.safe_load(first).items() if value == []}
    # Every key but config (the FILE argument gives it) and an empty list (no flag can say "none").
    assert given == set(keys(first)) - {"config"} - empty_lists, given
    assert check_config(str(empty), *flags) == first, "check-config output read back as flags differs"
    again = tmp_path / "again.yaml"
    again.write_text(first)
    assert settings(check_config(str(again))) == settings(first), "check-config output read back as a file differs"


def test_the_started_line_has_a_field_per_setting(berth, tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n")
    names = keys(check_config(str(empty), "--profile", "same-region"))
    b = berth("--config", str(empty), "--header-timeout", "7s")
    line = wait_for(lambda: next((l for l in b.stderr_text().splitlines() if 'msg="berth started"' in l), None),
                    what="the berth started line")
    fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
    for name in names:
        field = LOG_FIELD_RENAMES.get(name, name.replace("-", "_"))
        assert field in fields, f"{field} missing from {line}"
    assert fields["header_timeout"] == "7s" and fields["config"] == str(empty), line


def test_the_deprecated_boolean_warns_at_start_and_sets_metrics_upstreams(berth):
    b = berth("--metrics-per-upstream=false")
    wait_for(lambda: 'msg="berth started"' in b.stderr_text(), what="the berth started line")
    text = b.stderr_text()
    assert "--metrics-per-upstream: deprecated; write --metrics-upstreams none instead" in text, text
    assert "metrics_upstreams=none" in text, text
    both = run("--profile", "same-region", "--metrics-per-upstream=true", "--metrics-upstreams", "all")
    assert both.returncode == 64 and "keep only metrics-upstreams" in both.stderr, both.stderr
