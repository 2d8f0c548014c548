"""Runs every curl example of api.md against a live berth and origin, so the document cannot drift.

Rules (stated in api.md): every `curl` line inside a ```sh block is run with BERTH_ADMIN, UPSTREAM, CGROUP and
BERTH_TOKEN set (CGROUP is a stand-in directory holding a cgroup.events file, which berth's probe accepts); it must
exit 0 and print JSON (Prometheus text for /metrics). A line preceded by `# error example` must print a JSON error
object; every other line must not. Every ```json block (api_examples.py) must parse without a repeated key, match its
schema (docs/stats.schema.json for /stats, docs/openapi.yaml for the rest) and have the keys of berth's live answer
to the curl line it shows.
"""
import json
import os
import re
import subprocess

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from berthkit import admin
from admin_helpers import ROOT, SLOW_FLAGS, proxied
from api_examples import json_examples, key_differences, schema_errors

API_MD = os.path.join(ROOT, "api.md")


def extract_examples(text):
    """[(line_number, command, expect_error)] for every curl command in ```sh blocks."""
    out = []
    in_sh = False
    expect_error = False
    pending = None
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_sh = (not in_sh) and stripped in ("```sh", "```bash", "```shell")
            expect_error = False
            continue
        if not in_sh:
            continue
        if pending is not None:
            pending[1] += " " + stripped.rstrip("\\")
            if not stripped.endswith("\\"):
                out.append(tuple(pending))
                pending = None
            continue
        if stripped == "# error example":
            expect_error = True
            continue
        if stripped.startswith("curl "):
            if stripped.endswith("\\"):
                pending = [n, stripped.rstrip("\\"), expect_error]
            else:
                out.append((n, stripped, expect_error))
            expect_error = False
    return out


EXAMPLES = extract_examples(open(API_MD).read())
JSON_EXAMPLES = json_examples(open(API_MD).read(), EXAMPLES)


def test_examples_cover_every_endpoint():
    text = " ".join(cmd for _, cmd, _ in EXAMPLES)
    for ep in ("/pause", "/resume", "/evict", "/watch", "/unwatch", "/stats", "/metrics", "/healthz", "/readyz"):
        assert f"$BERTH_ADMIN{ep}" in text, f"api.md has no runnable example for {ep}"
    for _, cmd, _ in EXAMPLES:
        assert "$BERTH_ADMIN" in cmd, f"example not written against $BERTH_ADMIN: {cmd}"
        assert not re.search(r"(localhost|127\.0\.0\.1):9901", cmd), cmd
    assert len(EXAMPLES) >= 15


def _run(cmd, env):
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=30, env=env)
    return p


def _check(n, cmd, expect_error, p):
    """The answer's JSON (None for /metrics) once it passes the rules above."""
    assert p.returncode == 0, f"api.md:{n}: `{cmd}` exited {p.returncode}: {p.stderr}"
    if "/metrics" in cmd:
        fams = list(text_string_to_metric_families(p.stdout))
        assert any(f.name == "berth_requests" for f in fams), f"api.md:{n}: no metrics parsed"
        return None
    try:
        body = json.loads(p.stdout)
    except ValueError:
        pytest.fail(f"api.md:{n}: `{cmd}` did not print JSON: {p.stdout[:300]!r}")
    assert isinstance(body, dict)
    if expect_error:
        assert set(body) == {"error", "status"} and body["status"] >= 400, f"api.md:{n}: expected an error, got {body}"
    else:
        assert "error" not in body, f"api.md:{n}: `{cmd}` answered {body}"
    return body


def _first_request(berth, origin):
    """As for the /stats sample: the upstream's first request names its container's generation (api.md)."""
    r = requests.get(f"http://{origin.hostport}/", proxies={"http": berth.proxy_url}, timeout=20,
                     headers={"Berth-Generation": "4f1c9e0a2b7d"})
    assert r.status_code == 200


def test_every_example_runs(start_berth, origin, tmp_path):
    berth = start_berth(*SLOW_FLAGS)
    _first_request(berth, origin)
    for _ in range(2):
        assert proxied(berth, origin).status_code == 200
    cgroup = tmp_path / "docker-0f3a9c.scope"
    cgroup.mkdir()
    (cgroup / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    env = dict(os.environ, BERTH_ADMIN=f"{berth.admin[0]}:{berth.admin[1]}", UPSTREAM=origin.hostport, CGROUP=str(cgroup),
               BERTH_TOKEN="not-needed")
    live = {}
    for n, cmd, expect_error in EXAMPLES:
        if admin(berth, "GET", f"/stats?upstream={origin.hostport}").status_code == 404:
            _first_request(berth, origin)  # an earlier example forgot the upstream
        live[n] = _check(n, cmd, expect_error, _run(cmd, env))
    # Each JSON example has the keys of the live answer to the curl line it shows (values differ from run to run).
    wrong = [f"api.md:{ex.line} (answer to api.md:{ex.command_line}): {diff}"
             for ex in JSON_EXAMPLES if ex.command_line is not None
             for diff in key_differences(ex.document, live[ex.command_line])]
    assert wrong == [], "JSON examples whose keys are not berth's:\n" + "\n".join(wrong)
    # The examples with $BERTH_TOKEN must also work against a berth that requires it.
    token = tmp_path / "token"
    token.write_text("doc-token\n")
    token.chmod(0o600)
    secured = start_berth(*SLOW_FLAGS, "--admin-token-file", str(token))
    assert proxied(secured, origin).status_code == 200
    env2 = dict(env, BERTH_ADMIN=f"{secured.admin[0]}:{secured.admin[1]}", BERTH_TOKEN="doc-token")
    token_examples = [e for e in EXAMPLES if "BERTH_TOKEN" in e[1]]
    assert token_examples, "api.md has no example with the bearer token"
    for n, cmd, expect_error in token_examples:
        _check(n, cmd, expect_error, _run(cmd, env2))


def test_every_json_example_parses_without_a_repeated_key_and_matches_its_schema():
    assert len(JSON_EXAMPLES) >= 20
    problems = [f"api.md:{ex.line}: {p}" for ex in JSON_EXAMPLES for p in ex.problems + schema_errors(ex)]
    assert problems == [], "\n".join(problems)
