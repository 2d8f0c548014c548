"""The tree's own rules, on every tracked file: no conflict markers, no code file over 400 lines, no sys.path edits.

A merge resolved by hand once left conflict markers in two fuzz/differential files that no test imports: the
differential stopped with a SyntaxError and nothing in the suite noticed. These checks read what git tracks."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE = (".swift", ".py", ".c", ".h", ".sh", ".js")
MARKER = re.compile(rb"^(<{7} |>{7} |={7}$)", re.M)


def tracked():
    if shutil.which("git") is None or not os.path.exists(os.path.join(ROOT, ".git")):
        pytest.skip("not a git checkout: the tracked files are unknown")
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True, capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p and os.path.isfile(os.path.join(ROOT, p))]


def test_no_file_holds_merge_conflict_markers():
    found = []
    for path in tracked():
        with open(os.path.join(ROOT, path), "rb") as f:
            data = f.read()
        if b"\0" in data[:8192]:
            continue
        m = MARKER.search(data)
        # A Markdown heading underline is "=======" alone too: only a file with a "<<<<<<< " line is a conflict.
        if m and re.search(rb"^<{7} ", data, re.M):
            line = data[:m.start()].count(b"\n") + 1
            found.append(f"{path}:{line}")
    assert not found, found


def test_no_code_file_is_over_400_lines():
    long = []
    for path in tracked():
        if not path.endswith(CODE):
            continue
        with open(os.path.join(ROOT, path), "rb") as f:
            n = f.read().count(b"\n")
        if n > 400:
            long.append((path, n))
    assert not long, long


def test_no_python_file_edits_sys_path():
    # tests, bench and fuzz share one harness, tests/berthkit, found through PYTHONPATH (set by the scripts that run
    # them and by tests/conftest.py's rootdir), never by a file inserting paths of its own (issue 21).
    found = []
    for path in tracked():
        if not path.endswith(".py") or path == "tests/test_tree_hygiene.py":
            continue
        with open(os.path.join(ROOT, path), "rb") as f:
            for n, line in enumerate(f, 1):
                if re.match(rb"\s*sys\.path\.(insert|append)\(", line):
                    found.append(f"{path}:{n}")
    assert not found, found


def test_berth_is_started_only_by_the_harness():
    # One launcher (issue 21): berthkit.Berth waits for the ready line; berthkit.spawn starts berth as it is, for the
    # tests of what comes before that line. A Popen of BERTH_BIN anywhere else is a second launcher.
    found = []
    for path in tracked():
        if not path.endswith(".py") or path.startswith("tests/berthkit/") or path == "tests/test_tree_hygiene.py":
            continue
        with open(os.path.join(ROOT, path), "rb") as f:
            text = f.read()
        for m in re.finditer(rb"Popen\(\s*\[\s*BERTH_BIN", text):
            line = text[:m.start()].count(b"\n") + 1
            found.append(f"{path}:{line}")
    assert not found, found
