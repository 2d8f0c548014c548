"""berth as the session fuzzer runs it: short timeouts, loopback only, optional TLS upstreams; its admin API."""
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request

HEADER_TIMEOUT = 1.0
SOCKET_TIMEOUT = 0.3
BOUND = 5.0  # header timeout + socket timeout + generous slack for a loaded 2-core machine


class Berth:
    """berth started from `binary`; its config file (with `tls_ca`) and its stderr go to the directory `out`."""

    def __init__(self, binary, out, extra=(), tls_ca=None):
        argv = [binary, "--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                "--header-timeout", f"{int(HEADER_TIMEOUT * 1000)}ms", "--socket-timeout",
                f"{int(SOCKET_TIMEOUT * 1000)}ms", "--connect-timeout", "300ms", "--acquire-timeout", "1s",
                "--caller-idle-timeout", "3s", "--log-level", "error",
                # mutated absolute-form targets produce host names: never let berth resolve them (that would send
                # DNS queries off loopback). Names are denied (403) before resolution; run.sh adds a private netns.
                "--allow", "127.0.0.0/8", *extra]
        if tls_ca:
            conf = os.path.join(out, "berth-tls.yaml")
            with open(conf, "w") as f:
                f.write(f"destinations:\n  - match: 127.0.0.0/8\n    tls: {{ca-file: \"{tls_ca}\"}}\n")
            argv += ["--config", conf]
        self.stderr = open(os.path.join(out, "berth.stderr"), "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("berth listening"):
            raise SystemExit(f"berth did not start: {line!r}")
        f = dict(p.split("=", 1) for p in line.split()[2:])
        h, _, p = f["proxy"].rpartition(":")
        self.proxy = (h, int(p))
        self.admin = f"http://{f['admin']}"

    def get(self, path, method="GET", timeout=3):
        req = urllib.request.Request(self.admin + path, method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, {}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
