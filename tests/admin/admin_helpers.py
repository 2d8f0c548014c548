"""Helpers shared by the admin API tests: proxied requests, kernel socket table, berth flags (admin calls and
/stats are berthkit's)."""
import json
import os
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DOCS = os.path.join(ROOT, "docs")

# Generous timeouts so slow origin requests (/sleep/N) and held requests are not cut short by the profile.
SLOW_FLAGS = ("--socket-timeout", "10s", "--acquire-timeout", "5s", "--idle-timeout", "60s")


# What a pool berth does not know yet counts as: nothing open (upstream_stats is None until then).
NO_POOL = {"busy": 0, "idle": 0, "pending": 0, "open": 0}


def proxied(berth, origin, path="/", timeout=20):
    """A GET through berth's proxy listener on a fresh caller connection."""
    return requests.get(f"http://{origin.hostport}{path}", proxies={"http": berth.proxy_url}, timeout=timeout)


class Background(threading.Thread):
    """Runs a proxied request in a thread; .result is the Response (or the exception), .elapsed the seconds taken."""

    def __init__(self, berth, origin, path="/"):
        super().__init__(daemon=True)
        self.args_ = (berth, origin, path)
        self.result = None
        self.elapsed = None
        self.start()

    def run(self):
        t0 = time.monotonic()
        try:
            self.result = proxied(*self.args_)
        except Exception as e:  # reported by the test
            self.result = e
        self.elapsed = time.monotonic() - t0

    def response(self, timeout=20):
        self.join(timeout)
        assert not self.is_alive(), "proxied request did not finish"
        assert isinstance(self.result, requests.Response), self.result
        return self.result


def established_to_port(port):
    """Local ports of ESTABLISHED TCP connections whose remote end is 127.0.0.1:port (i.e. berth's side towards the origin)."""
    found = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            parts = line.split()
            local, remote, state = parts[1], parts[2], parts[3]
            if state != "01":
                continue
            if int(remote.rsplit(":", 1)[1], 16) == port:
                found.append(int(local.rsplit(":", 1)[1], 16))
    return found


def load_json(path):
    with open(path) as f:
        return json.load(f)
