"""GET /metrics (Prometheus text) and GET /stats (docs/stats.schema.json) on a live berth."""
import json
import math
import os

import jsonschema
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from berthkit import admin, admin_json, stats, upstream_stats
from admin_helpers import DOCS, SLOW_FLAGS, proxied

EXPECTED_FAMILIES = {
    "berth_build_info": "gauge",
    "berth_uptime_seconds": "gauge",
    "berth_callers": "gauge",
    "berth_callers_accepted": "counter",
    "berth_requests_received": "counter",
    "berth_bad_requests": "counter",
    "berth_header_timeouts": "counter",
    "berth_tunnels": "counter",
    "berth_responses_with_extra_bytes": "counter",
    "berth_errors": "counter",
    "berth_admin_loop_hold_seconds": "histogram",
    "berth_admin_loop_cpu_seconds": "histogram",
    "berth_upstreams": "gauge",
    "berth_upstream_open_connections": "gauge",
    "berth_upstream_idle_connections": "gauge",
    "berth_upstream_busy_connections": "gauge",
    "berth_upstream_connecting_connections": "gauge",
    "berth_upstream_pending_requests": "gauge",
    "berth_upstream_paused": "gauge",
    "berth_connections_opened": "counter",
    "berth_connections_reused": "counter",
    "berth_connections_closed": "counter",
    "berth_requests": "counter",
    "berth_retries": "counter",
    "berth_upstream_failures": "counter",
    "berth_acquire_wait_seconds": "histogram",
    "berth_time_to_first_byte_seconds": "histogram",
}
PER_UPSTREAM = {n for n in EXPECTED_FAMILIES if n.startswith(("berth_upstream_", "berth_connections_", "berth_requests", "berth_retries",
                                                                "berth_acquire", "berth_time_to"))} - {"berth_requests_received"}


def _metrics(berth, query=""):
    r = admin(berth, "GET", "/metrics" + query)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    fams = {f.name: f for f in text_string_to_metric_families(r.text)}
    return r.text, fams


def _check_shapes(fams):
    for name, typ in EXPECTED_FAMILIES.items():
        assert name in fams, f"missing family {name}"
        assert fams[name].type == typ, (name, fams[name].type)
    for f in fams.values():
        assert f.name.startswith("berth_"), f.name
        if f.type == "counter":
            for s in f.samples:
                assert s.name == f.name + "_total", s.name
        if f.type == "histogram":
            names = {s.name for s in f.samples}
            if f.samples:
                assert names == {f.name + "_bucket", f.name + "_sum", f.name + "_count"}, names
            series = {}
            for s in f.samples:
                key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                series.setdefault(key, {"buckets": [], "count": None})
                if s.name.endswith("_bucket"):
                    series[key]["buckets"].append((float(s.labels["le"]), s.value))
                elif s.name.endswith("_count"):
                    series[key]["count"] = s.value
            for key, v in series.items():
                bounds = [b for b, _ in v["buckets"]]
                assert bounds == sorted(bounds) and math.isinf(bounds[-1]), (f.name, key)
                counts = [c for _, c in v["buckets"]]
                assert counts == sorted(counts), (f.name, key, counts)
                assert counts[-1] == v["count"], (f.name, key)


def _upstreams(fams, name):
    """The upstream labels of a family's samples; None stands for the total (no upstream label)."""
    return {s.labels.get("upstream") for s in fams[name].samples}


def _value(fams, name, **labels):
    family = name.rsplit("_count", 1)[0] if name not in fams else name
    return next(s.value for s in fams[family].samples
                if s.name in (name, name + "_total") and s.labels == labels)


def test_metrics_families_and_labels(start_berth, origin):
    """Default (active): the used upstream has its series, the paused one that never carried a request only its
    berth_upstream_paused; every per-upstream family has its total."""
    berth = start_berth(*SLOW_FLAGS)
    _, fams = _metrics(berth)
    _check_shapes(fams)
    assert proxied(berth, origin).status_code == 200
    assert proxied(berth, origin).status_code == 200
    admin_json(berth, "POST", "/pause?upstream=127.0.0.1:9")
    text, fams = _metrics(berth)
    _check_shapes(fams)
    for name in PER_UPSTREAM - {"berth_upstream_paused", "berth_connections_closed", "berth_upstream_failures"}:
        assert _upstreams(fams, name) == {None, origin.hostport}, name
    assert _upstreams(fams, "berth_upstream_paused") == {None, origin.hostport, "127.0.0.1:9"}
    assert _upstreams(fams, "berth_upstream_epoch") == {origin.hostport}
    # Nothing was closed or failed on the origin: no reason or cause series of its own, but every one in the totals.
    assert _upstreams(fams, "berth_connections_closed") == {None}
    assert _upstreams(fams, "berth_upstream_failures") == {None}
    assert {s.labels["reason"] for s in fams["berth_connections_closed"].samples} >= {"paused", "evicted", "stale-epoch", "idle-timeout"}

    assert _value(fams, "berth_requests", upstream=origin.hostport) == 2
    assert _value(fams, "berth_requests") == 2
    assert _value(fams, "berth_connections_opened", upstream=origin.hostport) == 1
    assert _value(fams, "berth_connections_reused", upstream=origin.hostport) == 1
    assert _value(fams, "berth_upstream_paused", upstream="127.0.0.1:9") == 1
    assert _value(fams, "berth_upstream_paused", upstream=origin.hostport) == 0
    assert _value(fams, "berth_upstream_paused") == 1
    assert _value(fams, "berth_time_to_first_byte_seconds_count", upstream=origin.hostport) == 2
    assert _value(fams, "berth_time_to_first_byte_seconds_count") == 2
    assert _value(fams, "berth_upstreams") == 2
    r = admin(berth, "HEAD", "/metrics")
    assert r.status_code == 200 and r.content == b""


def test_metrics_upstreams_parameter(start_berth, origin):
    """?upstreams=all lists every upstream in full, ?upstreams=none none; anything else is a 400."""
    berth = start_berth(*SLOW_FLAGS)
    assert proxied(berth, origin).status_code == 200
    admin_json(berth, "POST", "/pause?upstream=127.0.0.1:9")
    _, fams = _metrics(berth, "?upstreams=all")
    _check_shapes(fams)
    for name in PER_UPSTREAM - {"berth_connections_closed", "berth_upstream_failures"}:
        assert _upstreams(fams, name) == {None, origin.hostport, "127.0.0.1:9"}, name
    _, fams = _metrics(berth, "?upstreams=none")
    _check_shapes(fams)
    assert all("upstream" not in s.labels for f in fams.values() for s in f.samples)
    for bad in ("?upstreams=some", "?upstreams=", "?per_upstream=1"):
        body = admin_json(berth, "GET", "/metrics" + bad, status=400)
        assert body["status"] == 400 and body["error"], bad


def test_metrics_totals_match_stats(start_berth, origin):
    """The totals of /metrics and of /stats are the same figures of the same table."""
    berth = start_berth(*SLOW_FLAGS)
    for _ in range(3):
        assert proxied(berth, origin).status_code == 200
    assert requests.get("http://127.0.0.1:9/", proxies={"http": berth.proxy_url}, timeout=10).status_code == 502
    totals = stats(berth)["totals"]
    _, fams = _metrics(berth)
    assert _value(fams, "berth_requests") == totals["requests"] == 4
    assert _value(fams, "berth_requests_received") == totals["requests_received"] == 4
    assert _value(fams, "berth_connections_opened") == totals["connections"]["opened"]
    assert _value(fams, "berth_upstream_open_connections") == totals["open"]
    assert _value(fams, "berth_upstream_idle_connections") == totals["idle"]
    for cause, n in totals["errors"].items():
        assert _value(fams, "berth_errors", cause=cause) == n, cause
    for cause, n in totals["failures"].items():
        assert _value(fams, "berth_upstream_failures", cause=cause) == n, cause
    for reason, n in totals["connections"]["closed"].items():
        assert _value(fams, "berth_connections_closed", reason=reason) == n, reason
    assert totals["failures"]["connect-refused"] == 1
    assert _value(fams, "berth_upstream_failures", upstream="127.0.0.1:9", cause="connect-refused") == 1
    assert _value(fams, "berth_acquire_wait_seconds_count") == totals["latency_ms"]["acquire_wait"]["count"]


def test_metrics_without_per_upstream_label(start_berth, origin):
    """The deprecated --metrics-per-upstream=false is --metrics-upstreams none."""
    berth = start_berth(*SLOW_FLAGS, "--metrics-per-upstream=false")
    assert proxied(berth, origin).status_code == 200
    admin_json(berth, "POST", "/pause?upstream=127.0.0.1:9")
    _, fams = _metrics(berth)
    for name, typ in EXPECTED_FAMILIES.items():
        assert fams[name].type == typ
    _check_shapes(fams)
    for f in fams.values():
        for s in f.samples:
            assert "upstream" not in s.labels, (s.name, s.labels)
    assert "berth_upstream_epoch" not in fams
    total = {s.name: s.value for s in fams["berth_requests"].samples}
    assert total == {"berth_requests_total": 1}
    assert [s.value for s in fams["berth_upstream_paused"].samples] == [1]


@pytest.fixture(scope="module")
def validator():
    with open(os.path.join(DOCS, "stats.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _valid(validator, doc):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_stats_schema_without_upstreams(start_berth, validator):
    berth = start_berth()
    doc = stats(berth)
    assert doc["upstreams"] == []
    _valid(validator, doc)


def test_stats_schema_after_traffic(start_berth, origin, validator):
    berth = start_berth(*SLOW_FLAGS)
    for _ in range(3):
        assert proxied(berth, origin).status_code == 200
    admin_json(berth, "POST", "/pause?upstream=127.0.0.1:9&hold=250ms")
    admin_json(berth, "POST", "/pause?upstream=127.0.0.1:10&mode=reject")
    admin_json(berth, "POST", "/resume?upstream=127.0.0.1:11")
    doc = stats(berth)
    _valid(validator, doc)
    assert [u["upstream"] for u in doc["upstreams"]] == sorted(u["upstream"] for u in doc["upstreams"])
    assert doc["totals"]["upstreams"] == 4 == len(doc["upstreams"])
    assert doc["totals"]["requests"] == 3
    one = stats(berth, origin.hostport)
    _valid(validator, one)
    assert len(one["upstreams"]) == 1
    u = one["upstreams"][0]
    assert (u["upstream"], u["state"], u["epoch"], u["requests"]) == (origin.hostport, "active", 1, 3)
    assert u["open"] == u["idle"] + u["busy"] + u["connecting"]
    assert u["latency_ms"]["time_to_first_byte"]["count"] == 3
    assert u["latency_ms"]["time_to_first_byte"]["p50"] is not None
    assert one["totals"]["upstreams"] == 4, "totals cover every upstream even with ?upstream="
    held = upstream_stats(berth, "127.0.0.1:9")
    assert (held["state"], held["pause_mode"], held["timeouts_ms"]["hold"]) == ("paused", "hold", 250.0)
    r = admin(berth, "HEAD", "/stats")
    assert r.status_code == 200 and r.content == b""


def test_stats_unknown_upstream_404(start_berth, validator):
    berth = start_berth()
    body = admin_json(berth, "GET", "/stats?upstream=127.0.0.1:9", status=404)
    assert body["status"] == 404
