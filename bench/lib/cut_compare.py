"""The cut matrix's TCP cases (tests/hostile/test_cut_matrix.py) sent byte for byte through berth, HAProxy and nginx:
what each caller sees of a response cut at each offset, and where a cut passes for a whole response."""
import collections
import socket
import os
import sys
import tempfile

import procs
from berthkit.cut_caller import Wire, read_response, request
from berthkit.cut_origin import CHUNKED, CLOSE, CODED, LENGTH, CutOrigin, cuts_of, expected, head_cuts_of
from proxy_start import start_berth

# Each proxy's server-side silence limit, so the silence cases end the same way for each.
SILENCE = "300ms"
ENDINGS = ("fin", "rst", "silence")
CALLERS = ("keep-alive", "close", "http10", "http10-keep-alive", "pipelined", "head")
# The silence cases wait the limit each: the callers that differ most, not all.
SILENT_CALLERS = ("keep-alive", "http10")


def cases():
    for ending in ENDINGS:
        for caller in SILENT_CALLERS if ending == "silence" else CALLERS:
            for r in (LENGTH, CHUNKED, CLOSE, CODED):
                cuts = cuts_of(r) if caller != "head" else head_cuts_of(r) if r is LENGTH else [("whole", len(r.head))]
                for cut, offset in cuts:
                    yield ending, caller, r, cut, offset


def verdict(r, caller, ending, offset, s, w):
    """What the caller can tell, in a few words; the words starting HIDDEN or WRONG are the failures."""
    head_whole, origin_done, payload = expected(r, caller, ending, offset)
    if s.status is None:
        return f"no response, {w.end}"
    if s.fields.get("x-case") != r.name:
        return f"proxy's own {s.status}" + ("" if head_whole else " (head was cut)")
    if s.problem:
        return f"WRONG framing: {s.problem}"
    if s.complete:
        if not origin_done:
            return f"HIDDEN: cut, looks whole ({s.framing}, {w.end or 'open'})"
        return "whole" if s.payload == payload else "WRONG payload"
    if origin_done:
        return f"WRONG: whole response cut ({s.framing}, {w.end})"
    if w.end == "timeout":
        return f"cut, caller left waiting ({s.framing})"
    if s.framing == "chunked" and s.last_chunk:
        return f"HIDDEN to lenient clients: last chunk sent, its section cut ({w.end})"
    if s.framing == "chunked":
        return f"cut shows: no last chunk, {w.end}"
    if w.end == "reset":
        return "cut shows: reset"
    return f"cut shows only by length: short {s.framing}, {w.end}"


def run(name, proxy, host, origin_cases):
    out, ids = {}, 0
    for ending, caller, r, cut, offset in cases():
        ids += 1
        case = f"{name}{ids}"
        wire = r.head if caller == "head" else r.wire
        origin_cases[case] = (wire[:offset], ending, offset == len(wire) and (r.framing != "close" or caller == "head"))
        sock = socket.create_connection(proxy, timeout=5)
        try:
            sock.sendall(request(caller, host, case, timeout=SILENCE if ending == "silence" else None))
            w = Wire(sock, timeout=3)
            s = read_response(w, "HEAD" if caller == "head" else "GET")
            out[f"{ending} {caller} {r.name} {cut}"] = verdict(r, caller, ending, offset, s, w)
        finally:
            sock.close()
    procs.log(f"{name}: {len(out)} cases")
    return out


def main():
    work = tempfile.mkdtemp(prefix="berth-cut-")
    origin_cases = {}
    origin = CutOrigin("tcp", origin_cases)
    host = f"127.0.0.1:{origin.port}"
    bp, hp, np_ = procs.free_ports(3)
    results = {}
    berth = start_berth(work, "berth", None, listen=f"127.0.0.1:{bp}")
    procs.wait_port(bp)
    results["berth"] = run("berth", ("127.0.0.1", bp), host, origin_cases)
    procs.stop(berth.proc)
    with open(os.path.join(work, "h.cfg"), "w") as f:
        f.write(f"defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server {SILENCE}\n"
                f"  http-reuse always\nfrontend fe\n  bind 127.0.0.1:{hp}\n  default_backend be\n"
                f"backend be\n  server s1 {host}\n")
    h = procs.start(["haproxy", "-f", os.path.join(work, "h.cfg"), "-db"])
    procs.wait_port(hp)
    results["haproxy"] = run("haproxy", ("127.0.0.1", hp), host, origin_cases)
    procs.stop(h)
    with open(os.path.join(work, "n.conf"), "w") as f:
        f.write(f"daemon off; pid {work}/n.pid; error_log {work}/n.err warn; events {{}}\n"
                f"http {{ access_log off;{procs.NGINX_TEMP_PATHS.format(d=work)}\n"
                f"  upstream up {{ server {host}; keepalive 16; }}\n"
                f"  server {{ listen 127.0.0.1:{np_}; location / {{ proxy_pass http://up; proxy_http_version 1.1;"
                f" proxy_set_header Connection \"\"; proxy_read_timeout {SILENCE}; }} }} }}\n")
    n = procs.start(["nginx", "-c", os.path.join(work, "n.conf"), "-p", work])
    procs.wait_port(np_)
    results["nginx"] = run("nginx", ("127.0.0.1", np_), host, origin_cases)
    procs.stop(n, sig=15)
    origin.close()
    summary = {p: dict(collections.Counter(v.split(" (")[0] if not v.startswith(("HIDDEN", "WRONG")) else v
                                           for v in res.values()).most_common())
               for p, res in results.items()}
    versions = {"haproxy": os.popen("haproxy -v").readline().strip(), "nginx": os.popen("nginx -v 2>&1").read().strip()}
    procs.finish(work, os.path.join(procs.BENCH_DIR, "results"), "cut-compare",
                 {"versions": versions, "silence": SILENCE, "summary": summary, "results": results})


if __name__ == "__main__":
    sys.exit(main())
