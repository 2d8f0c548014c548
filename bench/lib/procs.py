"""Process and measurement helpers shared by the bench harnesses (loopback only, bounded in time)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from berthkit import Berth, wait_for

CLK_TCK = os.sysconf("SC_CLK_TCK")
BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_started = []  # Popen objects this harness started; only these are ever signalled


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def start(argv, cpu=None, stdout=None, stderr=None, **kw):
    """Start a process (pinned with taskset when cpu is given) and remember it for cleanup."""
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + list(argv)
    p = subprocess.Popen(argv, stdout=stdout or subprocess.DEVNULL, stderr=stderr or subprocess.DEVNULL,
                         start_new_session=True, **kw)
    _started.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=15):
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    if p in _started:
        _started.remove(p)


def finish(work, out_dir, name, result):
    """The end of a bench run: every process stopped, the work directory removed, `result` written to
    OUT_DIR/NAME.json and printed without its machine description. Returns the path written."""
    stop_all()
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{name}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    print(f"wrote {path}")
    return path


def stop_all():
    for p in list(reversed(_started)):
        try:
            stop(p, timeout=5)
        except Exception:
            pass


def _connects(address):
    """Whether a connect to `address` (a port on 127.0.0.1, or `unix:/path`) succeeds now."""
    unix = isinstance(address, str)
    family, target = (socket.AF_UNIX, address[5:]) if unix else (socket.AF_INET, ("127.0.0.1", address))
    try:
        with socket.socket(family) as s:
            s.settimeout(0.5)
            s.connect(target)
            return True
    except OSError:
        return False


def wait_port(port, timeout=10.0):
    wait_address(port, timeout)


def wait_address(address, timeout=10.0):
    """Until something listens on `address`: a port number on 127.0.0.1, or `unix:/path` (berthkit's wait_for)."""
    wait_for(lambda: _connects(address), timeout=timeout, interval=0.05, what=f"a listener on {address}")


def compile_c(source, work, name, libs=()):
    """bench/SOURCE compiled with -O2 into WORK/NAME by the system C compiler; returns the executable's path."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise RuntimeError(f"{source} needs a C compiler (apt-get install -y gcc)")
    exe = os.path.join(work, name)
    if not os.path.exists(exe):
        subprocess.run([cc, "-O2", "-o", exe, os.path.join(BENCH_DIR, source), *libs], check=True)
    return exe


def start_berth(flags, work, name, cpu=None, wrapper=(), binary=None, ready_timeout=20.0):
    """berth with `flags`, started by berthkit (pinned with taskset when cpu is given, `wrapper` such as valgrind
    before it), its stderr in WORK/NAME.stderr; the berthkit Berth once its ready line came. stop_all() stops it."""
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    b = Berth(flags, binary=binary or os.environ["BERTH_BIN"], wrapper=[*pin, *wrapper],
              log_path=os.path.join(work, f"{name}.stderr"), ready_timeout=ready_timeout,
              popen_kw={"start_new_session": True})
    _started.append(b.proc)
    return b


def proc_tree(pid):
    """pid and all its descendants (for nginx master + worker)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError):
            pass
    out, todo = [], [pid]
    while todo:
        x = todo.pop()
        out.append(x)
        todo.extend(children.get(x, []))
    return out


def cpu_seconds(pids):
    """utime+stime (all threads) of the given processes, in seconds."""
    user, system = cpu_split(pids)
    return user + system


def cpu_split(pids):
    """(utime, stime) (all threads) of the given processes, in seconds: user space and kernel apart."""
    user = system = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            user += int(fields[11])  # utime (field 14)
            system += int(fields[12])  # stime (field 15)
        except OSError:
            pass
    return user / CLK_TCK, system / CLK_TCK


def system_busy_seconds():
    """Busy CPU time of the whole machine (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    v = [int(x) for x in parts]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / CLK_TCK


def rss_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM", "VmData"):
                out[k] = int(v.split()[0])
    return out


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = []
    return {"nproc": os.cpu_count(), "cpu_model": model, "kernel": os.uname().release,
            "loadavg_at_start": load}


def tool_version(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except Exception:
        return "unknown"


def tmpdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


NGINX_TEMP_PATHS = """
  client_body_temp_path {d}/cb; proxy_temp_path {d}/pt; fastcgi_temp_path {d}/ft;
  uwsgi_temp_path {d}/ut; scgi_temp_path {d}/st;"""


def start_upstream_nginx(workdir, port, cpu=None, workers=1, unix=None, tls=None):
    """nginx on 127.0.0.1:port (and on the socket path `unix` when given) answering /b2 (2 bytes), /b4k and /b256k,
    keep-alive without a request limit; with tls=(port, cert, key), the same server also on that port with
    `listen ... ssl` (session tickets on, nginx's default)."""
    os.chmod(workdir, 0o755)  # nginx workers run as nobody
    root = os.path.join(workdir, "www")
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o755)
    with open(os.path.join(root, "b4k"), "wb") as f:
        f.write(b"x" * 4096)
    with open(os.path.join(root, "b256k"), "wb") as f:
        f.write(b"x" * 262144)
    tls_listen = ""
    if tls:
        tls_listen = (f"\n    listen 127.0.0.1:{tls[0]} ssl backlog=4096;"
                      f"\n    ssl_certificate {tls[1]};\n    ssl_certificate_key {tls[2]};")
    conf = os.path.join(workdir, "upstream.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes {workers};
daemon off;
pid {workdir}/upstream.pid;
error_log {workdir}/upstream.err warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 19000; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  sendfile on;
  open_file_cache max=16 inactive=600s;
  open_file_cache_valid 600s;
  default_type application/octet-stream;{NGINX_TEMP_PATHS.format(d=workdir)}
  server {{
    listen 127.0.0.1:{port} backlog=4096;{f"{chr(10)}    listen unix:{unix} backlog=4096;" if unix else ""}{tls_listen}
    root {root};
    location = /b2 {{ return 200 "ok"; }}
    location / {{ }}
  }}
}}
""")
    p = start(["nginx", "-c", conf, "-p", workdir], cpu=cpu,
              stderr=open(os.path.join(workdir, "upstream.stderr"), "w"))
    wait_port(port)
    return p
