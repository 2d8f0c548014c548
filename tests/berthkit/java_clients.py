"""Real Java HTTP clients for the client tests: tests/java/ClientProbe.java compiled against Debian's Apache
HttpClient 4.5 and 5.2 (`libhttpclient-java`, `libhttpclient5-java`), once per run, and run through a proxy."""
import os
import shutil
import subprocess
import tempfile

from .process import ROOT

JARS = "/usr/share/java"
_CLASSPATH = [f"{JARS}/{j}.jar" for j in ("httpclient", "httpcore", "commons-logging", "commons-codec", "httpclient5",
                                         "httpcore5", "httpcore5-h2", "slf4j-api", "slf4j-nop")]
_SOURCE = os.path.join(ROOT, "tests", "java", "ClientProbe.java")
_built = {}


def missing():
    """Why the Java clients cannot run here (a reason for pytest.skip), or None."""
    for tool in ("javac", "java"):
        if shutil.which(tool) is None:
            return f"no {tool} (apt-get install default-jdk-headless)"
    absent = [j for j in _CLASSPATH if not os.path.exists(j)]
    if absent:
        return f"missing {', '.join(absent)} (apt-get install libhttpclient-java libhttpclient5-java libslf4j-java)"
    return None


def _classes():
    """The directory ClientProbe was compiled to (compiled on first use)."""
    if "dir" not in _built:
        out = tempfile.mkdtemp(prefix="berth-java-")
        subprocess.run(["javac", "-nowarn", "-cp", ":".join(_CLASSPATH), "-d", out, _SOURCE], check=True,
                       capture_output=True, timeout=120)
        _built["dir"] = out
    return _built["dir"]


def run_client(client, proxy, url, method="GET", size=0, chunked=False, expect=False, count=1, gap_ms=0,
               timeout=120):
    """Runs `client` ('hc4' or 'hc5') through `proxy` (host, port): `count` requests to `url` + the request's number.
    Returns one line per request, `STATUS BERTH-ERROR BODY-LENGTH` or `EXC Class: message`."""
    cp = ":".join(_CLASSPATH + [_classes()])
    args = ["java", "-cp", cp, "ClientProbe", client, proxy[0], str(proxy[1]), url, method, str(size),
            "1" if chunked else "0", "1" if expect else "0", str(count), str(gap_ms)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{client} exited {r.returncode}: {r.stderr[-2000:]}"
    return r.stdout.splitlines()
