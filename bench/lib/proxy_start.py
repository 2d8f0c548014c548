"""How bench starts each kind of proxy, plain or TLS: berth's flags and the nginx and HAProxy config files."""
import os

import procs


def start_berth(work, name, cpu, listen="127.0.0.1:0", workers=1, config=None, extra=(), binary=None):
    """berth with the bench's flags (stderr in WORK/NAME.stderr); the berthkit Berth, listening.
    `binary` defaults to $BERTH_BIN."""
    flags = ["--profile", "same-region-failover", *(["--config", config] if config else []),
             "--listen", listen, "--admin", "127.0.0.1:0", "--workers", str(workers), "--log-level", "warning", *extra]
    return procs.start_berth(flags, work, name, cpu=cpu, binary=binary)


def start_nginx(work, name, cpu, address, listen, upstream, temp, workers=1, scheme="http", location=""):
    """nginx as a reverse proxy: listens on `listen`, pools keep-alive connections to `upstream` (host:port) over
    `scheme`, with `location` (directives, one a line) added to its location block; waits for `address`."""
    conf = os.path.join(work, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes {workers};
daemon off;
pid {work}/{name}.pid;
error_log {work}/{name}.err warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;{procs.NGINX_TEMP_PATHS.format(d=temp)}
  upstream up {{ server {upstream}; keepalive 128; keepalive_requests 100000000; }}
  server {{
    listen {listen} backlog=4096;
    location / {{
      proxy_pass {scheme}://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
{location}    }}
  }}
}}
""")
    p = procs.start(["nginx", "-c", conf, "-p", work], cpu=cpu, stderr=open(os.path.join(work, f"{name}.stderr"), "w"))
    procs.wait_address(address)
    return p


def start_haproxy(work, name, cpu, address, bind, server, threads=1, reuse="  http-reuse always\n"):
    """HAProxy in http mode: binds `bind`, sends to `server` (its `server s1` arguments) with the `reuse` lines in its
    defaults; waits for `address`."""
    conf = os.path.join(work, f"{name}.cfg")
    with open(conf, "w") as f:
        f.write(f"""global
  nbthread {threads}
  maxconn 8000

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 300s
{reuse}
frontend fe
  bind {bind}
  default_backend be

backend be
  server s1 {server}
""")
    p = procs.start(["haproxy", "-f", conf, "-db"], cpu=cpu, stderr=open(os.path.join(work, f"{name}.stderr"), "w"))
    procs.wait_address(address)
    return p
