"""Helpers for berth's end-to-end reliability suite (tests/e2e): frozen-able upstreams that count their freezes,
/proc sampling, pause/resume, and a run-wide figure recorder that docs/reliability.md is written from.

Everything talks to 127.0.0.1 only; every wait is bounded; every process is started here and stopped by PID.
"""
import collections
import json
import os
import threading
import time

from berthkit import RawClient, admin, get_req, upstream_stats, wait_for, wait_upstream
from berthkit import upstream_process
from berthkit.upstream_process import machine

HERE = os.path.dirname(os.path.abspath(__file__))

LONG = os.environ.get("BERTH_E2E_LONG", "") not in ("", "0", "false", "no")


def scale(default, long):
    """The default-run value, or the long-run value under BERTH_E2E_LONG=1."""
    return long if LONG else default


# ------------------------------------------------------------------------------------------------ figures

class Figures:
    """Counts kept across the whole run and written to tests/e2e/last-run.json at the end of the session."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.faults = collections.Counter()
        self.failures = collections.Counter()  # by Berth-Error (or 'no-response: ...')
        self.extra = {}

    def request(self, n=1):
        with self.lock:
            self.requests += n

    def fault(self, kind, n=1):
        with self.lock:
            self.faults[kind] += n

    def failure(self, cause, n=1):
        with self.lock:
            self.failures[cause] += n

    def put(self, key, value):
        with self.lock:
            self.extra[key] = value

    def dump(self, path, started, outcome):
        data = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                "duration_s": round(time.time() - started, 1), "long": LONG, "outcome": outcome,
                "machine": machine(), "berth_bin": os.environ.get("BERTH_BIN"),
                "requests_sent": self.requests, "faults_injected": dict(self.faults),
                "failures_by_cause": dict(self.failures), "figures": self.extra}
        with open(path, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")


FIGURES = Figures()


# ----------------------------------------------------------------------------------------------- /proc

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


# ----------------------------------------------------------------------------------------------- admin

def pause(berth, hostport, **params):
    q = "".join(f"&{k}={v}" for k, v in params.items())
    status, body = admin(berth, "POST", f"/pause?upstream={hostport}{q}")
    assert status == 200, body
    return body


def resume(berth, hostport):
    status, body = admin(berth, "POST", f"/resume?upstream={hostport}")
    assert status == 200, body
    return body


def healthz(berth):
    try:
        return admin(berth, "GET", "/healthz", timeout=3)[0]
    except OSError:
        return None


def wait_pools_settled(berth, hostport, max_open=None, timeout=10.0):
    """busy 0, pending 0, connecting 0 (and open <= max_open); returns the upstream stats."""
    def ok(up):
        return (up["busy"] == 0 and up["pending"] == 0 and up["connecting"] == 0
                and (max_open is None or up["open"] <= max_open))
    return wait_upstream(berth, hostport, ok, timeout=timeout, what=f"{hostport} settled (busy/pending 0)")


# --------------------------------------------------------------------------------------------- requests

class Result:
    def __init__(self, status=None, headers=None, body=b"", error=None, elapsed=0.0):
        self.status, self.headers, self.body, self.error, self.elapsed = status, headers or {}, body, error, elapsed

    @property
    def berth_error(self):
        return self.headers.get("berth-error")

    @property
    def cause(self):
        if self.error:
            return f"no-response: {self.error}"
        if self.status != 200:
            return self.berth_error or f"status {self.status}"
        return None

    def __repr__(self):
        return (f"<Result status={self.status} berth-error={self.berth_error} error={self.error} "
                f"elapsed={self.elapsed:.3f}s body={self.body[:60]!r}>")


def send(proxy, hostport, method="GET", path="/", body=b"", timeout=10.0, extra=b"", record=True, expect=None):
    """One request on a fresh caller connection; never raises for network errors (they go in .error).
    A failure whose cause is `expect` (the fault the test injected) is counted as 'expected: CAUSE'."""
    t0 = time.monotonic()
    c = None
    try:
        c = RawClient(proxy, timeout)
        msg = c.request(get_req(hostport, path, extra=extra, method=method, body=body), method)
        r = Result(msg.status, {k.lower(): v for k, v in msg.headers}, msg.body, None, time.monotonic() - t0)
    except Exception as e:  # noqa: BLE001
        r = Result(error=f"{type(e).__name__}: {e}"[:200], elapsed=time.monotonic() - t0)
    finally:
        if c:
            c.close()
    if record:
        FIGURES.request()
        if r.cause:
            FIGURES.failure(f"expected: {r.cause}" if expect and r.cause == expect else r.cause)
    return r


def send_in_flight(berth, hostport, state="busy", **kw):
    """send(berth.proxy, hostport, **kw) from a thread, returned once berth counts it (`state` 1: `busy` out to the
    origin, `pending` held); gives result(timeout): the thread joined, its Result."""
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", send(berth.proxy, hostport, **kw)))
    t.start()
    wait_for(lambda: upstream_stats(berth, hostport)[state] == 1, timeout=5, what=f"the request {state}")

    def result(timeout=20):
        t.join(timeout)
        assert "r" in out, f"no answer after {timeout} s"
        return out["r"]

    return result


# ------------------------------------------------------------------------------------------ upstream processes


def node_upstream(keepalive_ms):
    return upstream_process.node_upstream(keepalive_ms, on_freeze=_count_freeze)


def python_upstream(keepalive_s, delay_ms=0):
    return upstream_process.python_upstream(keepalive_s, delay_ms, on_freeze=_count_freeze)


def _count_freeze(name):
    FIGURES.fault(f"freeze ({name})")
