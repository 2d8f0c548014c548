"""A real Prometheus (Debian's package) scrapes a live berth with the bearer token while traffic runs and upstreams are
paused; the figures Prometheus then serves must be the ones /stats gives, the recording rules and alerts must work on
them, and every dashboard query must run."""
import subprocess
import time

import pytest
import requests
import yaml

from berthkit import Origin, free_port, stats, stop_process, wait_for
from ops_helpers import TOKEN, Traffic, need
from promql import ALERTS, PENDING, RULES, dashboard_queries, label_values_metric, load_dashboard, metric_names, recorded_names


class Prometheus:
    """A Prometheus on loopback scraping `target` every second as job `berth`, with berth's rule files loaded."""

    def __init__(self, tmp_path, target, token_file):
        binary = need("prometheus", "prometheus")
        self.port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [RULES, ALERTS],
            "scrape_configs": [{
                "job_name": "berth", "scrape_interval": "1s", "scrape_timeout": "1s",
                "authorization": {"type": "Bearer", "credentials_file": token_file},
                "static_configs": [{"targets": [target]}],
            }],
        }
        path = tmp_path / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        self.log = open(tmp_path / "prometheus.log", "w")
        self.proc = subprocess.Popen([binary, f"--config.file={path}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                      f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for(self._ready, timeout=60, interval=0.2, what="Prometheus to be ready")

    def _ready(self):
        if self.proc.poll() is not None:
            pytest.fail(f"prometheus exited {self.proc.returncode}: {open(self.log.name).read()[-2000:]}")
        try:
            return requests.get(self.url + "/-/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def query(self, expr):
        """The instant vector `expr` gives now, as {frozenset(labels without __name__, job, instance): value}."""
        r = requests.get(self.url + "/api/v1/query", params={"query": expr}, timeout=10)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", (expr, body)
        out = {}
        for s in body["data"]["result"]:
            labels = {k: v for k, v in s["metric"].items() if k not in ("__name__", "job", "instance")}
            out[frozenset(labels.items())] = float(s["value"][1])
        return out

    def stop(self):
        stop_process(self.proc, grace=15)
        self.log.close()


@pytest.fixture
def prometheus(tmp_path):
    made = []

    def start(target, token_file):
        p = Prometheus(tmp_path, target, token_file)
        made.append(p)
        return p

    yield start
    for p in made:
        p.stop()


def _expected(doc):
    """{(metric, labels): value} for every figure /stats gives that /metrics also carries."""
    out = {}

    def put(metric, value, **labels):
        out[(metric, frozenset(labels.items()))] = float(value)

    t = doc["totals"]
    put("berth_upstreams", t["upstreams"])
    put("berth_requests_received_total", t["requests_received"])
    put("berth_callers_accepted_total", t["callers_accepted"])
    for cause, n in t["errors"].items():
        put("berth_errors_total", n, cause=cause)
    # The per-upstream families' totals (no upstream label) carry every reason and cause, zeros included.
    for metric, value in [("berth_requests_total", t["requests"]), ("berth_retries_total", t["retries"]),
                          ("berth_connections_opened_total", t["connections"]["opened"]),
                          ("berth_connections_reused_total", t["connections"]["reused"]),
                          ("berth_upstream_open_connections", t["open"]), ("berth_upstream_idle_connections", t["idle"]),
                          ("berth_upstream_busy_connections", t["busy"]), ("berth_upstream_pending_requests", t["pending"]),
                          ("berth_upstream_paused", sum(1 for u in doc["upstreams"] if u["state"] == "paused")),
                          ("berth_acquire_wait_seconds_count", t["latency_ms"]["acquire_wait"]["count"]),
                          ("berth_time_to_first_byte_seconds_count", t["latency_ms"]["time_to_first_byte"]["count"])]:
        put(metric, value)
    for reason, n in t["connections"]["closed"].items():
        put("berth_connections_closed_total", n, reason=reason)
    for cause, n in t["failures"].items():
        put("berth_upstream_failures_total", n, cause=cause)
    for u in doc["upstreams"]:
        up = u["upstream"]
        for metric, value in [("berth_requests_total", u["requests"]), ("berth_retries_total", u["retries"]),
                              ("berth_connections_opened_total", u["connections"]["opened"]),
                              ("berth_connections_reused_total", u["connections"]["reused"]),
                              ("berth_upstream_open_connections", u["open"]), ("berth_upstream_idle_connections", u["idle"]),
                              ("berth_upstream_busy_connections", u["busy"]), ("berth_upstream_pending_requests", u["pending"]),
                              ("berth_upstream_paused", 1 if u["state"] == "paused" else 0), ("berth_upstream_epoch", u["epoch"]),
                              ("berth_acquire_wait_seconds_count", u["latency_ms"]["acquire_wait"]["count"]),
                              ("berth_time_to_first_byte_seconds_count", u["latency_ms"]["time_to_first_byte"]["count"])]:
            put(metric, value, upstream=up)
        # Per upstream, a reason or cause that never moved has no series (--metrics-upstreams); the totals carry all.
        for reason, n in u["connections"]["closed"].items():
            if n:
                put("berth_connections_closed_total", n, upstream=up, reason=reason)
        for cause, n in u["failures"].items():
            if n:
                put("berth_upstream_failures_total", n, upstream=up, cause=cause)
    return out


def test_prometheus_scrapes_berth_and_agrees_with_stats(slow_berth, token_file, prometheus, origin):
    b = slow_berth("--admin-token-file", token_file)
    other = Origin()
    try:
        busy, calm, rejected, refused = origin.hostport, other.hostport, "127.0.0.1:9", "127.0.0.1:1"
        requests.post(b.admin_url + f"/pause?upstream={rejected}&mode=reject", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        p = prometheus(f"{b.admin[0]}:{b.admin[1]}", token_file)
        traffic = Traffic(b, {f"http://{busy}/": 25, f"http://{calm}/": 5, f"http://{rejected}/": 3, f"http://{refused}/": 2})
        try:
            time.sleep(3)
            # A pause and resume in the middle of the traffic: the busy upstream's pooled connections go, its epoch moves on.
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert requests.post(b.admin_url + f"/pause?upstream={busy}", headers=auth, timeout=10).status_code == 200
            time.sleep(0.5)
            assert requests.post(b.admin_url + f"/resume?upstream={busy}", headers=auth, timeout=10).status_code == 200
            time.sleep(3)
        finally:
            traffic.stop()
        assert all(traffic.sent.values()), traffic.sent

        # The scrape worked, with the token...
        assert p.query('up{job="berth"}') == {frozenset(): 1.0}
        # ...and once Prometheus has scraped berth at rest, every figure matches /stats.
        doc = stats(b, token=TOKEN)
        expected = _expected(doc)
        names = sorted({m for m, _ in expected})

        def scraped():
            got = {}
            for name in names:
                for labels, v in p.query(f'{name}{{job="berth"}}').items():
                    got[(name, labels)] = v
            return got
        last = {}

        def matches():
            last["got"] = scraped()
            return last["got"] == expected and last["got"]
        try:
            got = wait_for(matches, timeout=20, interval=0.2, what="Prometheus's figures to match /stats")
        except BaseException:
            g = last.get("got", {})
            diff = {k: (expected.get(k), g.get(k)) for k in set(expected) | set(g) if expected.get(k) != g.get(k)}
            pytest.fail(f"Prometheus and /stats differ (expected, scraped): {sorted(diff.items(), key=str)[:20]}")
        assert got[("berth_upstream_epoch", frozenset({("upstream", busy)}))] == 2.0
        assert got[("berth_upstream_paused", frozenset({("upstream", rejected)}))] == 1.0
        assert got[("berth_errors_total", frozenset({("cause", "upstream-paused")}))] > 0
        assert got[("berth_upstream_failures_total", frozenset({("upstream", refused), ("cause", "connect-refused")}))] > 0
        assert got[("berth_connections_closed_total", frozenset({("upstream", busy), ("reason", "paused")}))] > 0
        info = p.query('berth_build_info{job="berth"}')
        assert info == {frozenset({("version", doc["version"]), ("profile", doc["profile"])}): 1.0}

        # Recording rules evaluate on real series; alerts whose `for` has not run out are pending.
        # Each rule group runs on its own evaluation tick: give every recorded series a few ticks to appear.
        for name in recorded_names():
            assert wait_for(lambda: p.query(name),
                            timeout=20, interval=0.2, what=f"recorded series {name}"), f"recorded series {name} is empty"
        # Every request to the rejected and the refused upstream failed, and none to the others.
        want = {rejected: 1.0, refused: 1.0, busy: 0.0, calm: 0.0}

        def ratio():
            return {dict(k)["upstream"]: v for k, v in p.query("berth_upstream:failure_ratio:rate5m").items()}
        # A recording rule is evaluated on its own interval: wait for an evaluation after the traffic.
        assert wait_for(lambda: ratio() == want, timeout=20, interval=0.2, what="the failure ratio rule"), ratio()
        def pending(alert):
            return {dict(k).get("upstream") for k in p.query(f'ALERTS{{alertstate="pending", alertname="{alert}"}}')}
        assert wait_for(lambda: pending("BerthUpstreamPausedTooLong"),
                        timeout=20, interval=0.2, what="the paused alert") == {rejected}
        # (BerthUpstreamErrorRatioHigh also needs 0.1 requests/s over 5 minutes, which rate() does not see in a
        # 10-second run: its firing is shown by promtool's unit tests instead.)

        # Every dashboard query runs; those whose metrics berth exports return data.
        subst = {"$job": "berth", "$instance": ".*", "$upstream": ".*", "$__rate_interval": "1m"}
        for where, expr in dashboard_queries(load_dashboard()):
            e = label_values_metric(expr)
            for k, v in subst.items():
                e = e.replace(k, v)
            result = p.query(e)
            if not metric_names(expr) & PENDING:
                assert result, f"{where}: {e} returned nothing"

        # berth goes away: the scrape fails and BerthDown is pending.
        b.stop()
        wait_for(lambda: p.query('up{job="berth"}') == {frozenset(): 0.0},
                 timeout=20, interval=0.2, what="up to drop to 0")
        wait_for(lambda: any(dict(k).get("alertname") == "BerthDown" for k in p.query('ALERTS{alertstate="pending"}')),
                 timeout=20, interval=0.2, what="BerthDown to be pending")
    finally:
        other.close()


def test_scrape_without_the_token_is_refused(slow_berth, token_file, prometheus, tmp_path):
    """The same job with a wrong token: berth answers 401 and Prometheus says so."""
    b = slow_berth("--admin-token-file", token_file)
    wrong = tmp_path / "wrong-token"
    wrong.write_text("not-the-token\n")
    p = prometheus(f"{b.admin[0]}:{b.admin[1]}", str(wrong))

    def target_error():
        t = requests.get(p.url + "/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        return t and t[0]["health"] == "down" and t[0]["lastError"]
    assert "401" in wait_for(target_error, timeout=20, interval=0.2, what="the scrape to fail")
