"""--workers N: several event loops on one port, limits shared out, admin commands reaching every worker."""
import concurrent.futures
import threading
import time

import requests




def _get(berth, url, session=None):
    s = session or requests
    return s.get(url, proxies={"http": berth.proxy_url}, timeout=20)


def test_two_workers_serve_and_report_one_view(start_berth, origin):
    berth = start_berth("--workers", "2", "--max-per-route", "4")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda i: _get(berth, f"http://{origin.hostport}/w{i}").status_code, range(200)))
    assert codes == [200] * 200
    doc = requests.get(berth.admin_url + "/stats", timeout=10).json()
    up = doc["upstreams"][0]
    assert up["requests"] == 200
    assert up["limits"]["max_per_route"] == 4, "the workers' shares add up to the configured limit"
    assert doc["totals"]["max_total"] == 200
    assert up["open"] <= 4


def test_per_route_limit_holds_across_workers(start_berth):
    """10 slow concurrent requests through 2 workers never open more than --max-per-route connections."""
    import http.server
    import socketserver

    lock = threading.Lock()
    live = {"now": 0, "peak": 0, "ports": set()}

    class Slow(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            with lock:
                live["ports"].add(self.client_address[1])
                live["now"] += 1
                live["peak"] = max(live["peak"], live["now"])
            time.sleep(0.3)
            with lock:
                live["now"] -= 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    srv = S(("127.0.0.1", 0), Slow)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        berth = start_berth("--workers", "2", "--max-per-route", "2", "--acquire-timeout", "10s", "--socket-timeout", "5s")
        url = f"http://127.0.0.1:{srv.server_address[1]}/slow"
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            codes = list(pool.map(lambda i: _get(berth, url).status_code, range(10)))
        assert codes == [200] * 10
        assert live["peak"] <= 2
        assert len(live["ports"]) <= 2, "never a third upstream connection"
    finally:
        srv.shutdown()
        srv.server_close()


def test_pause_and_resume_reach_every_worker(start_berth, origin):
    berth = start_berth("--workers", "2")
    sessions = [requests.Session() for _ in range(6)]
    for s in sessions:
        assert _get(berth, f"http://{origin.hostport}/warm", s).status_code == 200
    idle = requests.get(berth.admin_url + f"/stats?upstream={origin.hostport}", timeout=10).json()["upstreams"][0]["idle"]
    ans = requests.post(berth.admin_url + f"/pause?upstream={origin.hostport}", timeout=10).json()
    assert ans["closed_idle"] == idle and idle >= 1
    after = requests.get(berth.admin_url + f"/stats?upstream={origin.hostport}", timeout=10).json()["upstreams"][0]
    assert after["open"] == 0 and after["state"] == "paused"
    ans = requests.post(berth.admin_url + f"/resume?upstream={origin.hostport}&prewarm=4", timeout=10).json()
    assert ans["epoch"] == 2 and ans["prewarmed"] == 4
    deadline = time.time() + 5
    while time.time() < deadline:
        up = requests.get(berth.admin_url + f"/stats?upstream={origin.hostport}", timeout=10).json()["upstreams"][0]
        if up["idle"] == 4:
            break
        time.sleep(0.05)
    assert up["idle"] == 4 and up["epoch"] == 2


def test_sigterm_stops_every_worker(start_berth, origin):
    berth = start_berth("--workers", "2")
    assert _get(berth, f"http://{origin.hostport}/x").status_code == 200
    assert berth.stop() == 0
