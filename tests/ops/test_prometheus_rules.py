"""deploy/prometheus and deploy/grafana on their own: promtool checks and unit tests, the dashboard's shape, and that
every query uses only metric names a live berth exports."""
import subprocess

import requests
from prometheus_client.parser import text_string_to_metric_families

from ops_helpers import need, proxied
from promql import (ALERT_TESTS, ALERTS, BUILTIN, PENDING, RULES, dashboard_queries, load_dashboard, metric_names,
                    panels, recorded_names, rule_exprs)


def test_promtool_checks_the_rule_files():
    promtool = need("promtool", "prometheus")
    p = subprocess.run([promtool, "check", "rules", RULES, ALERTS], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "SUCCESS: 12 rules found" in p.stdout and "SUCCESS: 5 rules found" in p.stdout, p.stdout


def test_promtool_unit_tests_of_the_alerts_pass():
    promtool = need("promtool", "prometheus")
    p = subprocess.run([promtool, "test", "rules", ALERT_TESTS], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "SUCCESS" in p.stdout


def test_every_alert_has_a_unit_test():
    alerts = {where.split()[1] for where, _ in rule_exprs() if where.startswith("berth.alerts")}
    assert alerts == {"BerthDown", "BerthUpstreamPausedTooLong", "BerthPoolTimeoutsRising",
                      "BerthUpstreamErrorRatioHigh", "BerthGlobalLimitNearlyReached"}
    text = open(ALERT_TESTS).read()
    for a in alerts:
        assert f"alertname: {a}" in text, a


def test_dashboard_parses_and_holds_together():
    dash = load_dashboard()
    assert dash["uid"] == "berth-overview" and dash["title"] == "berth"
    ids = [p["id"] for p in panels(dash)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"] for v in dash["templating"]["list"]}
    assert {"datasource", "job", "instance", "upstream"} <= variables
    titles = " | ".join(p["title"] for p in panels(dash))
    for topic in ("Requests", "by cause", "against max-total", "max-per-route", "Pause state", "Acquire wait", "Time to first byte"):
        assert topic in titles, topic
    for p in panels(dash):
        if p["type"] == "row":
            continue
        assert p["datasource"]["uid"] == "${datasource}", p["title"]
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert 'job="$job"' in t["expr"] and 'instance=~"$instance"' in t["expr"], (p["title"], t["expr"])
            assert t["expr"].count("(") == t["expr"].count(")"), t["expr"]


def test_metric_names_tokenizer():
    assert metric_names('sum by (upstream) (rate(berth_requests_total{job="$job", cause="a b"}[$__rate_interval])) / 2') == {"berth_requests_total"}
    assert metric_names('histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 0.5e3 and on (job) y:z') == {"x_bucket", "y:z"}
    assert metric_names('label_values(berth_build_info{job="$job"}, instance)') == {"berth_build_info"}
    assert metric_names("up == 0") == {"up"}


def test_metric_names_are_ones_berth_exports(berth, origin):
    """Scrapes a live berth with traffic, so per-upstream families have samples, and compares every name the
    dashboard and the rules use with what it exports (plus the recorded series and Prometheus's own)."""
    b = berth()
    assert proxied(b, f"http://{origin.hostport}/").status_code == 200
    text = requests.get(b.admin_url + "/metrics", timeout=10).text
    exported = set()
    for family in text_string_to_metric_families(text):
        exported |= {s.name for s in family.samples}
    known = exported | recorded_names() | BUILTIN
    used = {}
    for where, expr in dashboard_queries(load_dashboard()) + rule_exprs():
        for name in metric_names(expr):
            used.setdefault(name, []).append(where)
    unknown = {n: w for n, w in used.items() if n not in known and n not in PENDING}
    assert not unknown, f"names berth does not export: {unknown}"
    assert not PENDING & exported, f"berth exports {PENDING & exported} now: take them out of promql.PENDING"
    assert PENDING <= set(used), "a pending name that nothing uses should not be listed"
