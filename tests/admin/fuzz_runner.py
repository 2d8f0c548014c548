"""Starts berth (with an admin token) and runs schemathesis against docs/openapi.yaml; exits with schemathesis' status.

Run by test_auth_fuzz.py (with tests/ on PYTHONPATH, for berthkit), normally inside a private network namespace
(unshare -n) so nothing the fuzzer makes berth do (for example /resume?prewarm=N to a generated host) can leave
loopback.
Usage: fuzz_runner.py SCHEMA TOKEN_FILE MAX_EXAMPLES
"""
import os
import subprocess
import sys
import tempfile

from berthkit import Berth

ST = os.path.join(os.path.dirname(sys.executable), "schemathesis")


def main():
    schema, token_file, max_examples = sys.argv[1], sys.argv[2], sys.argv[3]
    token = open(token_file).read().strip()
    try:
        berth = Berth(["--profile", "same-region", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                       "--admin-token-file", token_file, "--log-level", "error"], log_path=os.devnull)
    except RuntimeError as e:
        print(e)
        return 3
    report = tempfile.mkdtemp(prefix="berth-st-")
    cmd = [ST, "run", schema, "--url", berth.admin_url,
           "-H", f"Authorization: Bearer {token}",
           "--max-examples", max_examples, "--seed", "1", "--workers", "1",
           "--checks", "all", "--exclude-checks", "positive_data_acceptance",
           "--request-timeout", "5",
           "--phases", "examples,coverage,fuzzing",
           "--generation-database", "none", "--no-color",
           "--report-dir", report]
    print("+", " ".join(cmd), flush=True)
    rc = subprocess.call(cmd, env=dict(os.environ, SCHEMATHESIS_HOOKS=""))
    alive = berth.proc.poll() is None
    berth.stop(timeout=10)
    if not alive:
        print("berth died during the fuzz run", flush=True)
        return 4
    return rc


if __name__ == "__main__":
    sys.exit(main())
