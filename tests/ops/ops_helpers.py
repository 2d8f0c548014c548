"""Helpers shared by the operator-side tests: system tools, `berth ctl` and traffic (admin calls are berthkit's)."""
import os
import shutil
import subprocess
import threading
import time

import pytest
import requests

from berthkit import BERTH_BIN

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEPLOY = os.path.join(ROOT, "deploy")

# The admin token the `token_file` fixture writes (with whitespace around it, which berth trims).
TOKEN = "ops-token-7f3a"

# Generous timeouts so held and slow requests are not cut short by the profile.
SLOW_FLAGS = ("--socket-timeout", "10s", "--acquire-timeout", "5s", "--idle-timeout", "60s")


def need(tool, package):
    """The path of `tool`. Missing: a failure in CI (.ci/run installs `package`), a skip elsewhere, saying how to get it."""
    path = shutil.which(tool)
    if path:
        return path
    message = f"{tool} is not installed (apt-get install {package}; scripts/test installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def proxied(berth, url, timeout=20):
    """A GET through berth's proxy on a fresh caller connection; the Response (any status)."""
    return requests.get(url, proxies={"http": berth.proxy_url}, timeout=timeout)


def ctl(*args, berth=None, env=None, timeout=30):
    """`berth ctl ARGS` (with --admin for `berth` when given); the CompletedProcess, text mode. BERTH_* variables of the
    caller's environment are removed first so that only what the test sets counts."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    full.update(env or {})
    cmd = [BERTH_BIN, "ctl", *args]
    if berth is not None:
        cmd += ["--admin", f"{berth.admin[0]}:{berth.admin[1]}"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full)


class Traffic(threading.Thread):
    """Sends GETs through berth to each URL of `plan` ({url: requests per second}) until stopped; bounded by
    `limit` seconds so a test that forgets to stop it cannot run away. `.sent` counts requests per URL."""

    def __init__(self, berth, plan, limit=120):
        super().__init__(daemon=True)
        self.berth, self.plan, self.limit = berth, dict(plan), limit
        self.sent = {u: 0 for u in plan}
        self._halt = threading.Event()
        self.start()

    def run(self):
        session = requests.Session()
        session.proxies = {"http": self.berth.proxy_url}
        start = time.monotonic()
        due = {u: start for u in self.plan}
        while not self._halt.is_set() and time.monotonic() - start < self.limit:
            now = time.monotonic()
            for url, per_second in self.plan.items():
                if per_second and now >= due[url]:
                    try:
                        session.get(url, timeout=5)
                    except requests.RequestException:
                        pass
                    self.sent[url] += 1
                    due[url] = now + 1.0 / per_second
            self._halt.wait(0.01)

    def stop(self):
        self._halt.set()
        self.join(10)
