"""Starts berth (with an admin token) and runs schemathesis against docs/openapi.yaml; exits with schemathesis' status.

Run by test_schemathesis.py, normally inside a private network namespace (unshare -n) so nothing the
fuzzer makes berth do (for example /resume?prewarm=N to a generated host) can leave loopback.
Usage: fuzz_runner.py SCHEMA TOKEN_FILE MAX_EXAMPLES
"""
import os
import subprocess
import sys
import tempfile

BERTH_BIN = os.environ["BERTH_BIN"]
ST = os.path.join(os.path.dirname(sys.executable), "schemathesis")


def main():
    schema, token_file, max_examples = sys.argv[1], sys.argv[2], sys.argv[3]
    token = open(token_file).read().strip()
    berth = subprocess.Popen(
        [BERTH_BIN, "--profile", "same-region", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
         "--admin-token-file", token_file, "--log-level", "error"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = berth.stdout.readline().decode().strip()
    if not line.startswith("berth listening"):
        print("berth did not start:", line)
        berth.kill()
        return 3
    admin = dict(p.split("=", 1) for p in line.split()[2:])["admin"]
    report = tempfile.mkdtemp(prefix="berth-st-")
    cmd = [ST, "run", schema, "--url", f"http://{admin}",
           "-H", f"Authorization: Bearer {token}",
           "--max-examples", max_examples, "--seed", "1", "--workers", "1",
           "--checks", "all", "--exclude-checks", "positive_data_acceptance",
           "--request-timeout", "5",
           "--phases", "examples,coverage,fuzzing",
           "--generation-database", "none", "--no-color",
           "--report-dir", report]
    print("+", " ".join(cmd), flush=True)
    rc = subprocess.call(cmd, env=dict(os.environ, SCHEMATHESIS_HOOKS=""))
    alive = berth.poll() is None
    berth.terminate()
    try:
        berth.wait(10)
    except subprocess.TimeoutExpired:
        berth.kill()
    if not alive:
        print("berth died during the fuzz run", flush=True)
        return 4
    return rc


if __name__ == "__main__":
    sys.exit(main())
