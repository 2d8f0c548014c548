"""The hostile cases that apply to any HTTP proxy, sent byte for byte to berth, HAProxy and nginx: what the caller sees."""
import json
import os
import socket
import sys
import tempfile
import threading
import time

import procs
from proxy_start import start_berth

BODY = b"x" * 1000
# Every proxy gets the same 1 s server-side silence limit, so the stall case ends the same way for each.
TIMEOUT_S = 1


def _rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


def _read_head(conn):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            return None, buf
        buf += chunk
    return buf.split(b"\r\n\r\n", 1)


def _origin_conn(conn, stats):
    """One origin connection: the request path picks the misbehaviour."""
    try:
        conn.settimeout(10)
        head, rest = _read_head(conn)
        if head is None:
            return conn.close()
        path = head.split(b" ")[1].decode()
        path = path[path.find("/", path.find("//") + 2):] if path.startswith("http") else path
        if path == "/close-rst":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + BODY)
            time.sleep(0.2)
            return _rst(conn)
        if path == "/close-clean":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + BODY)
            return conn.close()
        if path == "/cl-rst":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + BODY)
            time.sleep(0.2)
            return _rst(conn)
        if path == "/chunked-rst":
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + BODY + b"\r\n")
            time.sleep(0.2)
            return _rst(conn)
        if path == "/chunked-cut-trailer":
            # The last chunk and a trailer line, then a close without the section's final CRLF.
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + BODY + b"\r\n"
                         + b"0\r\nX-Check: 1\r\n")
            time.sleep(0.2)
            return conn.close()
        if path == "/trailer-fields":
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3e8\r\n" + BODY
                         + b"\r\n0\r\nX-Check: 1\r\nContent-Length: 5\r\nHost: evil\r\nConnection: close\r\n"
                         + b"Content-Type: text/evil\r\n\r\n")
            return conn.close()
        if path == "/stall":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + BODY)
            time.sleep(TIMEOUT_S * 4)
            return conn.close()
        if path == "/upload":
            need = 30 - len(rest)
            while need > 0:
                chunk = conn.recv(need)
                if not chunk:
                    return conn.close()
                need -= len(chunk)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            stats["uploads"] += 1
            return conn.close()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        stats["smuggled" if path == "/smuggled" else "plain"] += 1
        conn.close()
    except OSError:
        conn.close()


def start_origin():
    """A threaded origin on 127.0.0.1; returns (port, stats, listening socket)."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    stats = {"uploads": 0, "plain": 0, "smuggled": 0}

    def loop():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=_origin_conn, args=(c, stats), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return ls.getsockname()[1], stats, ls


def read_all(sock, timeout=TIMEOUT_S * 6):
    data, deadline = b"", time.monotonic() + timeout
    while True:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, "RST"
        except socket.timeout:
            return data, "timeout"
        if not chunk:
            return data, "FIN"
        data += chunk


def verdict(raw, how, version):
    """What the caller can tell: the status, the framing, and whether a cut response shows as cut."""
    if not raw.startswith(b"HTTP/"):
        return {"status": None, "end": how, "cut_visible": how == "RST"}
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(raw.split(b" ", 2)[1])
    fields = {ln.split(b":", 1)[0].strip().lower(): ln.split(b":", 1)[1].strip()
              for ln in head.split(b"\r\n")[1:] if b":" in ln}
    if b"chunked" in fields.get(b"transfer-encoding", b""):
        framing, complete = "chunked", body.endswith(b"0\r\n\r\n")
        # What a lenient client sees: a last-chunk line at all (it may take the close for the end of the trailer),
        # and the trailer field names that came through.
        last = body.find(b"\r\n0\r\n")
        trailer = body[last + 5:] if last >= 0 else b""
        extra = {"last_chunk_line_sent": last >= 0,
                 "trailer_fields": [ln.split(b":", 1)[0].decode() for ln in trailer.split(b"\r\n") if b":" in ln]}
        return {"status": status, "framing": framing, "end": how, "body_bytes": len(body),
                "cut_visible": (not complete) or how == "RST", "version": version, **extra}
    elif b"content-length" in fields:
        framing, complete = "length", len(body) >= int(fields[b"content-length"])
    else:
        # Close-delimited: a FIN means "complete" to the caller, whatever the upstream did.
        framing, complete = "close", how == "FIN"
    return {"status": status, "framing": framing, "end": how, "body_bytes": len(body),
            "cut_visible": (not complete) or how == "RST", "version": version}


def case_get(proxy, target, path, version):
    s = socket.create_connection(proxy, timeout=10)
    s.sendall(f"GET {target}{path} {version}\r\nHost: {target.split('//')[-1] or 'x'}\r\n\r\n".encode())
    raw, how = read_all(s)
    s.close()
    return verdict(raw, how, version)


def case_slow_upload(proxy, target):
    s = socket.create_connection(proxy, timeout=10)
    s.sendall(f"POST {target}/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n".encode())
    for _ in range(30):
        time.sleep(0.1)
        try:
            s.sendall(b"u")
        except OSError:
            break
    raw, how = read_all(s)
    s.close()
    return {"status": int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else None, "end": how}


def case_connect_pipelined(proxy, dead_port, target):
    s = socket.create_connection(proxy, timeout=10)
    s.sendall(f"CONNECT 127.0.0.1:{dead_port} HTTP/1.1\r\nHost: 127.0.0.1:{dead_port}\r\n\r\n"
              f"GET {target}/smuggled HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    raw, how = read_all(s, timeout=3)
    s.close()
    return {"statuses": [int(p.split(b" ", 2)[1]) for p in raw.split(b"HTTP/1.")[1:] if p[:1] in b"01"], "end": how}


CASES = ["/close-clean", "/close-rst", "/cl-rst", "/chunked-rst", "/stall", "/chunked-cut-trailer", "/trailer-fields"]


def run_target(name, proxy, target, origin_stats, dead_port):
    out = {}
    for path in CASES:
        for version in ("HTTP/1.1", "HTTP/1.0"):
            out[f"{path} {version}"] = case_get(proxy, target, path, version)
    out["slow-upload"] = case_slow_upload(proxy, target)
    before = origin_stats["smuggled"]
    out["connect-refused+pipelined"] = case_connect_pipelined(proxy, dead_port, target)
    time.sleep(0.3)
    out["connect-refused+pipelined"]["origin_saw_smuggled"] = origin_stats["smuggled"] > before
    procs.log(f"{name}: done")
    return out


def main():
    work = tempfile.mkdtemp(prefix="berth-hostile-")
    port, stats, _ls = start_origin()
    dead_port = procs.free_port()
    bp, hp, np_ = procs.free_ports(3)
    results = {}
    berth = start_berth(work, "berth", None, listen=f"127.0.0.1:{bp}",
                        extra=["--socket-timeout", f"{TIMEOUT_S}s", "--connect-port", str(dead_port)])
    procs.wait_port(bp)
    results["berth"] = run_target("berth", ("127.0.0.1", bp), f"http://127.0.0.1:{port}", stats, dead_port)
    procs.stop(berth.proc)
    with open(os.path.join(work, "h.cfg"), "w") as f:
        f.write(f"defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server {TIMEOUT_S}s\n"
                f"frontend fe\n  bind 127.0.0.1:{hp}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:{port}\n")
    h = procs.start(["haproxy", "-f", os.path.join(work, "h.cfg"), "-db"])
    procs.wait_port(hp)
    results["haproxy"] = run_target("haproxy", ("127.0.0.1", hp), "", stats, dead_port)
    procs.stop(h)
    with open(os.path.join(work, "n.conf"), "w") as f:
        f.write(f"daemon off; pid {work}/n.pid; error_log {work}/n.err warn; events {{}}\n"
                f"http {{ access_log off;{procs.NGINX_TEMP_PATHS.format(d=work)}\n"
                f"  server {{ listen 127.0.0.1:{np_}; location / {{ proxy_pass http://127.0.0.1:{port};"
                f" proxy_read_timeout {TIMEOUT_S}s; proxy_send_timeout {TIMEOUT_S}s; }} }} }}\n")
    n = procs.start(["nginx", "-c", os.path.join(work, "n.conf"), "-p", work])
    procs.wait_port(np_)
    results["nginx"] = run_target("nginx", ("127.0.0.1", np_), "", stats, dead_port)
    procs.stop(n, sig=15)
    versions = {"haproxy": os.popen("haproxy -v").readline().strip(), "nginx": os.popen("nginx -v 2>&1").read().strip()}
    procs.finish(work, os.path.join(procs.BENCH_DIR, "results"), "hostile-compare",
                 {"versions": versions, "timeout_s": TIMEOUT_S, "results": results})


if __name__ == "__main__":
    sys.exit(main())
