"""Helpers shared by the operator-side tests: system tools, raw admin requests, `berth ctl` and traffic."""
import http.client
import json
import os
import shutil
import subprocess
import threading
import time

import pytest
import requests

from berth_process import BERTH_BIN
from http_origin import Origin  # noqa: F401  (tests/http_origin.py: for tests that need more than `origin`)

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


def raw_admin(berth, method, path, headers=None, host=None):
    """One admin request with exactly these headers (http.client adds only Host, which `host` replaces);
    returns (status, parsed JSON or text, response headers)."""
    conn = http.client.HTTPConnection(*berth.admin, timeout=15)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or f"{berth.admin[0]}:{berth.admin[1]}")
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if method == "POST":
            conn.putheader("Content-Length", "0")
        conn.endheaders()
        r = conn.getresponse()
        body = r.read()
        ctype = r.getheader("Content-Type", "")
        parsed = json.loads(body) if ctype.startswith("application/json") else body.decode()
        return r.status, parsed, {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def stats(berth, token=None, upstream=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = requests.get(berth.admin_url + "/stats" + (f"?upstream={upstream}" if upstream else ""), headers=headers, timeout=15)
    r.raise_for_status()
    return r.json()


def upstream_stats(berth, upstream, token=None):
    """The /stats entry of `upstream`, or None while berth does not know it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = requests.get(berth.admin_url + f"/stats?upstream={upstream}", headers=headers, timeout=15)
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return r.json()["upstreams"][0]


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
