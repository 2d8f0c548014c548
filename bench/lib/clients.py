"""The two load clients bench/run drives: wrk (TCP only) and bench/load/load.c (TCP or Unix socket), both closed
loop with one thread and N keep-alive connections, both reporting one `BENCH key=value ...` line."""

import os
import subprocess

import procs

WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50=%d p90=%d p99=%d p999=%d mean=%.1f max=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.mean, latency.max))
end
"""


class Client:
    """Runs one measured load loop against an address (a port or `unix:/path`)."""

    def __init__(self, kind, work):
        self.kind = kind
        if kind == "wrk":
            self.lua = os.path.join(work, "report.lua")
            with open(self.lua, "w") as f:
                f.write(WRK_LUA)
        else:
            self.exe = procs.compile_c("load/load.c", work, "load")

    def argv(self, address, up_port, path, duration, connections):
        host = f"127.0.0.1:{up_port}"
        if self.kind == "wrk":
            if isinstance(address, str):
                raise ValueError(f"wrk cannot reach {address}: use --client load")
            return ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "2s", "-s", self.lua,
                    "-H", f"Host: {host}", f"http://127.0.0.1:{address}{path}"]
        where = ["--unix", address[5:]] if isinstance(address, str) else ["--tcp", f"127.0.0.1:{address}"]
        return [self.exe, *where, "-c", str(connections), "-d", str(duration), "-H", host, path]

    def run(self, address, up_port, path, duration, connections, cpu):
        argv = self.argv(address, up_port, path, duration, connections)
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + argv
        r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30)
        line = next((l for l in r.stdout.splitlines() if l.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(f"{self.kind} failed (exit {r.returncode}): {r.stdout}{r.stderr}")
        return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
