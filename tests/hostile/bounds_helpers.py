"""Helpers of the bounds tests (issue 23 items 2, 7, 10, 12, 13): admin calls, berth's memory, a free port."""
import json
import socket
import urllib.error
import urllib.request


def admin(b, method, path, timeout=10):
    """(status, body bytes) of one admin call on berth `b`."""
    req = urllib.request.Request(f"{b.admin_url}{path}", method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def admin_json(b, method, path, timeout=10):
    """The JSON of an admin call that must answer 200."""
    status, body = admin(b, method, path, timeout)
    assert status == 200, (method, path, status, body[:300])
    return json.loads(body)


def proc_status(pid, field):
    """A /proc/PID/status field in KiB (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def refused_port():
    """A loopback port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
