"""berth as the session fuzzer runs it: short timeouts, loopback only, optional TLS upstreams (started by berthkit)."""
import os

from berthkit import Berth

HEADER_TIMEOUT = 1.0
SOCKET_TIMEOUT = 0.3
BOUND = 5.0  # header timeout + socket timeout + generous slack for a loaded 2-core machine


def start_fuzzed_berth(binary, out, extra=(), tls_ca=None):
    """berth started from `binary`, its config file (with `tls_ca`) and its stderr (berth.stderr) in the directory
    `out`; a berthkit Berth."""
    flags = ["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
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
        flags += ["--config", conf]
    return Berth(flags, binary=binary, log_path=os.path.join(out, "berth.stderr"))
