"""Real clients: curl -x and python-requests with proxies=."""
import os
import shutil
import subprocess

import pytest
import requests


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_x_get_and_post(berth, origin):
    b = berth()
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    out = subprocess.run(["curl", "-sS", "--max-time", "10", "-x", b.proxy_url, "-D", "-",
                          f"http://{origin.hostport}/curl"], capture_output=True, timeout=20, env=env)
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert text.startswith("HTTP/1.1 200"), text
    assert text.endswith("hello /curl"), text
    assert origin.requests[-1][1] == "/curl"
    assert origin.requests[-1][2].get("Host") == origin.hostport

    out = subprocess.run(["curl", "-sS", "--max-time", "10", "-x", b.proxy_url, "--data-binary", "curl-body",
                          f"http://{origin.hostport}/curlpost"], capture_output=True, timeout=20, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"curl-body"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_x_large_post_with_expect(berth, origin):
    """curl sends 'Expect: 100-continue' for bodies over 1 MB; it gives up waiting after 1s and sends anyway."""
    b = berth("--socket-timeout", "10s")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    data = os.urandom(2 << 20)
    out = subprocess.run(["curl", "-sS", "--max-time", "20", "-x", b.proxy_url, "--data-binary", "@-",
                          "-H", "Content-Type: application/octet-stream", f"http://{origin.hostport}/bigpost"],
                         input=data, capture_output=True, timeout=30, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == data


def test_python_requests_get_and_post(berth, origin):
    b = berth()
    proxies = {"http": b.proxy_url}
    with requests.Session() as s:
        s.trust_env = False
        r = s.get(f"http://{origin.hostport}/req?q=1", proxies=proxies, timeout=10)
        assert r.status_code == 200
        assert r.text == "hello /req?q=1"
        assert r.headers.get("X-Origin-Port") == str(origin.port)
        r = s.post(f"http://{origin.hostport}/post", data=b"a=1&b=2", proxies=proxies, timeout=10)
        assert r.status_code == 200
        assert r.content == b"a=1&b=2"
        r = s.put(f"http://{origin.hostport}/put", data=iter([b"gen", b"erated"]), proxies=proxies, timeout=10)
        assert r.status_code == 200  # generator body -> chunked request
        assert r.content == b"generated"
    assert [(m, p) for m, p, _ in origin.requests] == [("GET", "/req?q=1"), ("POST", "/post"), ("PUT", "/put")]
