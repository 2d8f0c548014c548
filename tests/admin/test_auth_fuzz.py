"""Bearer-token authentication, the non-loopback rule, and schemathesis against docs/openapi.yaml."""
import os
import shutil
import subprocess
import sys

import pytest

import berthkit
from admin_helpers import DOCS, HERE
from berthkit import BERTH_BIN, admin


@pytest.fixture
def token_file(tmp_path):
    p = tmp_path / "admin-token"
    p.write_text("  correct-horse-battery  \n")  # surrounding whitespace is trimmed
    p.chmod(0o600)  # berth refuses a token file its group or others may read
    return str(p)


def test_health_probes_need_no_token(start_berth, token_file):
    berth = start_berth("--admin-token-file", token_file)
    for path in ("/healthz", "/readyz"):
        r = admin(berth, "GET", path)
        assert r.status_code == 200, (path, r.text)
        assert r.json() == {"status": "ok"}


@pytest.mark.parametrize("method,path", [("GET", "/stats"), ("GET", "/metrics"),
                                         ("POST", "/pause?upstream=127.0.0.1:9"), ("POST", "/evict"), ("GET", "/nope")])
def test_bearer_token(start_berth, token_file, method, path):
    berth = start_berth("--admin-token-file", token_file)
    for token in (None, "wrong", "correct-horse-batter", "correct-horse-battery-", "CORRECT-HORSE-BATTERY"):
        r = admin(berth, method, path, token=token)
        assert r.status_code == 401, (token, r.status_code)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert r.json()["status"] == 401
    import requests
    r = requests.request(method, berth.admin_url + path, headers={"Authorization": "Basic Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5"}, timeout=10)
    assert r.status_code == 401
    r = admin(berth, method, path, token="correct-horse-battery")
    assert r.status_code == (404 if path == "/nope" else 200), r.text
    # Nothing changed while unauthorized: only the authorized pause created the upstream.
    if path.startswith("/pause"):
        ups = admin(berth, "GET", "/stats", token="correct-horse-battery").json()["upstreams"]
        assert [u["upstream"] for u in ups] == ["127.0.0.1:9"]


def test_no_token_file_no_auth(start_berth):
    berth = start_berth()
    assert admin(berth, "GET", "/stats").status_code == 200
    assert admin(berth, "GET", "/stats", token="anything").status_code == 200


def test_non_loopback_admin_without_token_refused():
    p = subprocess.run([BERTH_BIN, "--profile", "same-region", "--listen", "127.0.0.1:0", "--admin", "0.0.0.0:0"],
                       capture_output=True, timeout=20)
    assert p.returncode == 64, (p.returncode, p.stdout, p.stderr)
    assert b"admin-token-file" in p.stderr
    assert not p.stdout.startswith(b"berth listening")


def _netns_ok():
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True).returncode == 0


def test_schemathesis_openapi(tmp_path, token_file):
    """Fuzzes every documented operation (examples, coverage and fuzzing phases, all checks but
    positive_data_acceptance, which cannot hold: the schema cannot say that hold= needs mode=hold or that
    forget=true needs upstream). Runs inside a private network namespace so that nothing berth is made to
    do (e.g. /resume?prewarm= to a generated host name) can leave loopback; without one the prewarm
    parameter is taken out of the fuzzed copy of the schema instead."""
    pytest.importorskip("schemathesis")
    schema = os.path.join(DOCS, "openapi.yaml")
    runner = [sys.executable, os.path.join(HERE, "fuzz_runner.py")]
    env = dict(os.environ, BERTH_BIN=BERTH_BIN, PYTHONPATH=os.path.dirname(os.path.dirname(berthkit.__file__)))
    if _netns_ok():
        cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + runner + [schema, token_file, "30"]
    else:
        import yaml
        doc = yaml.safe_load(open(schema))
        params = doc["paths"]["/resume"]["post"]["parameters"]
        doc["paths"]["/resume"]["post"]["parameters"] = [p for p in params if p.get("name") != "prewarm"]
        schema = str(tmp_path / "openapi-noprewarm.yaml")
        with open(schema, "w") as f:
            yaml.safe_dump(doc, f)
        cmd = runner + [schema, token_file, "30"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=str(tmp_path))
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
