"""A log file on a full filesystem: berth serves on, the line the disk cut short is ended before the next one (never
glued to it), and once lines go through again one line says how many were lost and why (configuration.md, Logging)."""
import json
import os
import re
import socket
import subprocess
import threading

import pytest

from berthkit import Berth, LOOPBACK_FLAGS
from hostile_wire import read_response, status_of

LOGFMT_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')
REQUESTS_BEFORE, REQUESTS_FULL, REQUESTS_AFTER = 5, 300, 5


@pytest.fixture
def small_fs(tmp_path):
    """A 64 KiB tmpfs of this test's own, unmounted at the end."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    path = tmp_path / "fs"
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)])


def _origin():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve(conn):
        with conn:
            while True:
                try:
                    if not conn.recv(65536):
                        return
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                except OSError:
                    return

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener


def _fill(path):
    """Writes into `path` until the filesystem refuses (ENOSPC)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"x" * 1024)
    except OSError:
        pass
    finally:
        os.close(fd)


def _parse(line, fmt):
    """The fields of one whole log line, or None when it is not one (cut, or two glued together)."""
    if fmt == "json":
        try:
            fields = json.loads(line)
        except ValueError:
            return None
        return fields if isinstance(fields, dict) and "ts" in fields else None
    if not line.startswith("ts=") or line.count(" label=") != 1:
        return None
    fields = {}
    for key, value in LOGFMT_FIELD.findall(line):
        fields.setdefault(key, json.loads(value) if value.startswith('"') else value)
    # An access line ends with its trace_id: one cut anywhere before has none.
    return None if fields.get("msg") == "access" and "trace_id" not in fields else fields


@pytest.mark.parametrize("fmt", ["logfmt", "json"])
def test_lines_lost_to_a_full_disk_are_reported_and_none_is_glued(small_fs, fmt):
    origin = _origin()
    log = small_fs / "berth.log"
    b = Berth([*LOOPBACK_FLAGS, "--access-log", "--log-format", fmt], log_path=str(log))
    try:
        port = origin.getsockname()[1]
        s = socket.create_connection(b.proxy, timeout=10)

        def get(i):
            s.sendall(f"GET http://127.0.0.1:{port}/r{i} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
            head, _ = read_response(s)
            assert status_of(head) == 200, head

        total = REQUESTS_BEFORE + REQUESTS_FULL + REQUESTS_AFTER
        for i in range(REQUESTS_BEFORE):
            get(i)
        filler = small_fs / "filler"
        _fill(filler)
        # berth serves on while its log takes nothing.
        for i in range(REQUESTS_BEFORE, REQUESTS_BEFORE + REQUESTS_FULL):
            get(i)
        os.unlink(filler)
        for i in range(REQUESTS_BEFORE + REQUESTS_FULL, total):
            get(i)
        s.close()
    finally:
        assert b.stop() == 0
        origin.close()
    lines = log.read_text(errors="replace").split("\n")
    assert lines[-1] == "", "the log ends inside a line"
    lines = lines[:-1]
    parsed = [_parse(line, fmt) for line in lines]
    reports = [i for i, p in enumerate(parsed) if p and p.get("msg") == "log lines lost"]
    # Before: no report at all, and the line the disk cut short ran straight into the next one written.
    assert len(reports) == 1, lines
    report = parsed[reports[0]]
    for i, p in enumerate(parsed):
        if p is None:
            # Only the line the disk cut, ended before the report; nothing glued to it.
            assert i + 1 == reports[0], (i, lines[i])
            assert lines[i].count("level") == 1, lines[i]
    accessed = sum(1 for p in parsed if p and p.get("msg") == "access")
    assert 0 < accessed < total
    assert int(report["lines"]) == total - accessed, (report, accessed)
    assert "No space left on device" in report["error"], report
    assert report["level"] == "warning", report
