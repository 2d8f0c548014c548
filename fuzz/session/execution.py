"""One execution of the session fuzzer: a caller connection through berth, then the invariants checked after it."""
import socket
import time

from berthkit import admin, upstream_stats
from berthkit.llhttp_views import ResCounter, parse_requests, path_of
from case_gen import SMUGGLED_MARK
from fuzzed_berth import BOUND


def run_caller(berth, case):
    """Send the caller bytes; returns (ended, how, response bytes, seconds)."""
    targets, complete, methods, err = parse_requests(case["caller"])
    need = max(1, len(targets))
    head_only = any(m in ("HEAD", "CONNECT") for m in methods) or not targets
    t0 = time.monotonic()
    s = socket.create_connection(berth.proxy, timeout=BOUND)
    got = b""
    rp = ResCounter()
    rp_err = None
    try:
        data = case["caller"]
        bounds = [0] + case["caller_splits"] + [len(data)]
        for i in range(len(bounds) - 1):
            try:
                s.sendall(data[bounds[i]:bounds[i + 1]])
            except (BrokenPipeError, ConnectionResetError):
                break  # berth answered (400) and closed before the rest; read what it sent
            if i < len(bounds) - 2:
                time.sleep(0.005)
        if case["half_close"]:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:  # berth already closed the connection
                pass
        idle_since = None
        while True:
            left = BOUND - (time.monotonic() - t0)
            if left <= 0:
                return False, "bound", got, time.monotonic() - t0
            s.settimeout(min(left, 0.3 if idle_since else left))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                if idle_since and rp.final_heads >= need:
                    return True, "answered (heads, then quiet)", got, time.monotonic() - t0
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True, "reset", got, time.monotonic() - t0
            if not chunk:
                return True, "closed", got, time.monotonic() - t0
            got += chunk
            if rp_err is None:
                try:
                    rp.execute(chunk)
                except Exception as e:  # noqa: BLE001
                    rp_err = type(e).__name__
            if rp.final_complete >= need:
                return True, "answered", got, time.monotonic() - t0
            if head_only or rp_err or rp.final_heads >= need:
                idle_since = time.monotonic()
    except (ConnectionResetError, BrokenPipeError):
        return True, "reset", got, time.monotonic() - t0
    finally:
        s.close()


def execute(berth, lane, case, execution, stats):
    with lane.lock:
        lane.case = case
        lane.execution = execution
    ended, how, got, secs = run_caller(berth, case)
    violations = []
    if not ended:
        violations.append(f"caller connection neither answered nor closed within {BOUND}s")
    if berth.proc.poll() is not None:
        violations.append(f"berth exited with {berth.proc.returncode}")
        return violations, how
    code, _ = admin(berth, "GET", "/healthz", timeout=3)
    if code != 200:
        violations.append(f"/healthz answered {code}")
    # let the upstream exchange finish, then evict and check the pool settles
    deadline = time.monotonic() + BOUND
    up = None
    while time.monotonic() < deadline:
        admin(berth, "POST", f"/evict?upstream={lane.hp}", timeout=3)
        up = upstream_stats(berth, lane.hp)
        if up is None or (up["busy"] == 0 and up["pending"] == 0 and up["connecting"] == 0):
            break
        time.sleep(0.05)
    if up is not None:
        if up["busy"] or up["pending"] or up["connecting"]:
            violations.append(f"/stats not settled after {BOUND}s: busy={up['busy']} pending={up['pending']} "
                              f"connecting={up['connecting']}")
        if up["open"] != up["idle"] + up["busy"] + up["connecting"]:
            violations.append(f"/stats open {up['open']} != idle+busy+connecting")
    time.sleep(0.02)
    with lane.lock:
        lane.case = None
    caller_targets, _, _, caller_err = parse_requests(case["caller"])
    caller_paths = [path_of(t) for t in caller_targets]
    targets, refused = lane.take(execution)
    upstream_paths = [path_of(t) for t in targets]
    upstream_errs = ["llhttp refused the upstream stream"] * refused
    unknown = [p for p in upstream_paths if p not in caller_paths]
    if unknown:
        violations.append(f"upstream parsed request(s) the caller never sent: {unknown} (caller sent {caller_paths})")
    elif any(SMUGGLED_MARK in p for p in upstream_paths) and not any(SMUGGLED_MARK in p for p in caller_paths):
        violations.append("upstream parsed the smuggled request")
    extra = len(upstream_paths) - len(caller_paths)
    if extra > 0 and not unknown:
        stats["replays"] += 1
        retries = (up or {}).get("retries", 0)
        if retries <= stats.get(f"retries-{lane.hp}", 0):
            violations.append(f"upstream parsed {len(upstream_paths)} requests, caller sent {len(caller_paths)} "
                              f"({upstream_paths} vs {caller_paths}) and berth counted no retry")
        stats[f"retries-{lane.hp}"] = retries
    if upstream_errs:
        stats["upstream_bytes_llhttp_rejects"] += 1
        if len(stats["upstream_reject_examples"]) < 5:
            stats["upstream_reject_examples"].append({"caller": case["caller"][:300].decode("latin-1"),
                                                      "llhttp": upstream_errs})
    stats["outcomes"][how] = stats["outcomes"].get(how, 0) + 1
    return violations, how
