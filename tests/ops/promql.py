"""What the deploy/ artifacts ask Prometheus for: the dashboard's and the rule files' queries, and the metric names
those queries use (a small PromQL tokenizer: enough for names, not a parser)."""
import json
import os
import re

import yaml

from ops_helpers import DEPLOY

DASHBOARD = os.path.join(DEPLOY, "grafana", "berth.json")
RULES = os.path.join(DEPLOY, "prometheus", "berth.rules.yml")
ALERTS = os.path.join(DEPLOY, "prometheus", "berth.alerts.yml")
ALERT_TESTS = os.path.join(DEPLOY, "prometheus", "berth.alerts.test.yml")

# Metric names the artifacts use that berth does not export yet: the pool limits (max-total, max-per-route) as
# gauges. Asked of the Stats/ owner; test_metric_names fails once they exist, so this list cannot go stale.
PENDING = set()

# Series Prometheus makes itself.
BUILTIN = {"up", "ALERTS", "ALERTS_FOR_STATE"}

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
            "inf", "nan"}


def load_dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def panels(dash):
    """Every panel, rows' children included."""
    for p in dash["panels"]:
        yield p
        yield from p.get("panels", [])


def dashboard_queries(dash):
    """[(where, expr)] for every panel target and every query variable."""
    out = []
    for p in panels(dash):
        for t in p.get("targets", []):
            out.append((f"panel {p['id']} {p['title']!r} {t['refId']}", t["expr"]))
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            out.append((f"variable {v['name']}", q))
    return out


def rule_groups(path):
    with open(path) as f:
        return yaml.safe_load(f)["groups"]


def rule_exprs():
    """[(where, expr)] for every recording and alerting rule."""
    out = []
    for path in (RULES, ALERTS):
        for g in rule_groups(path):
            for r in g["rules"]:
                out.append((f"{os.path.basename(path)} {r.get('record') or r.get('alert')}", r["expr"]))
    return out


def recorded_names():
    return {r["record"] for g in rule_groups(RULES) for r in g["rules"]}


def label_values_metric(expr):
    """`label_values(metric{...}, label)` (a Grafana variable) as the PromQL selector it queries."""
    m = re.match(r"\s*label_values\((.*),\s*\w+\s*\)\s*$", expr)
    return m.group(1) if m else expr


def metric_names(expr):
    """The metric names an expression selects: identifiers that are not functions, keywords, labels or durations."""
    e = label_values_metric(expr)
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e)                                  # string literals (label values)
    e = re.sub(r"\{[^}]*\}", " ", e)                                          # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                                         # range selectors and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)   # label lists
    e = re.sub(r"\$\{?\w+\}?", " ", e)                                        # Grafana variables
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if rest.startswith("(") or word.lower() in KEYWORDS:
            continue
        if re.fullmatch(r"\d+(\.\d+)?(e\d+)?", word) or (m.start() > 0 and e[m.start() - 1].isdigit()):
            continue
        names.add(word)
    return names
