"""The status page as served (GET / and /ui), and the cross-site rule for admin mutations (CSRF)."""
import re

import pytest
import requests

from berthkit import admin, upstream_stats
from ops_helpers import TOKEN


@pytest.mark.parametrize("path", ["/", "/ui"])
def test_page_is_one_self_contained_html_document(berth, path):
    b = berth()
    r = requests.get(b.admin_url + path, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Frame-Options"] == "DENY"
    csp = r.headers["Content-Security-Policy"]
    for rule in ("default-src 'none'", "connect-src 'self'", "frame-ancestors 'none'", "form-action 'none'"):
        assert rule in csp, csp
    html = r.text
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    # Inline only: no external script, stylesheet, image or font, and no absolute URL anywhere.
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert not re.search(r"<link[^>]*rel=\"?stylesheet", html)
    assert not re.search(r"https?://", html), re.search(r".{40}https?://.{40}", html)
    assert "@import" not in html and "url(" not in html
    assert html.count("<script>") == 1 and html.count("<style>") == 1
    # The fields the page shows: every column of the list.
    for heading in ("State", "Epoch", "Open", "Idle", "Busy", "Conn.", "Pend.", "Requests", "Errors by cause",
                    "Acquire p50 / p99", "TTFB p50 / p99", "Freezer watch", "Last minutes", "Limits in force"):
        assert heading in html, heading
    # The token is sent as a header, never put in a URL.
    assert 'Authorization: "Bearer " + S.token' in html
    assert not re.search(r"[?&]token=", html)


def test_head_gives_the_headers_only(berth):
    b = berth()
    r = requests.head(b.admin_url + "/", timeout=10)
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["Content-Length"]) > 10_000


def test_page_is_open_with_a_token_but_its_data_is_not(berth, token_file):
    b = berth("--admin-token-file", token_file)
    assert requests.get(b.admin_url + "/", timeout=10).status_code == 200
    assert requests.get(b.admin_url + "/stats", timeout=10).status_code == 401
    ok = requests.get(b.admin_url + "/stats", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert ok.status_code == 200


def test_page_paths_take_get_only(berth):
    b = berth()
    for method in ("POST", "PUT", "DELETE"):
        r = admin(b, method, "/")
        assert r.status == 405, (method, r.status, r.body)
        assert r.headers["allow"] == "GET, HEAD"


# ---------------------------------------------------------------------------------------------- cross-site checks

UP = "127.0.0.1:9"  # any upstream: /pause creates it, so a refused pause leaves /stats without it


def _origin(b, host=None):
    return f"http://{host or b.admin[0]}:{b.admin[1]}"


def test_cross_site_form_post_without_token_is_refused(berth):
    """What a page on another site makes a browser send when it auto-submits a form to the admin port."""
    b = berth()
    status, body = admin(b, "POST", f"/pause?upstream={UP}", headers={
        "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403, body
    assert body["status"] == 403 and "cross-site" in body["error"]
    assert upstream_stats(b, UP) is None, "the refused pause must not have run"


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},                        # an older browser: Origin only
    {"Sec-Fetch-Site": "cross-site"},                         # Fetch metadata only
    {"Sec-Fetch-Site": "same-site"},                          # another port of the same host: a different origin
    {"Origin": "null"},                                       # sandboxed frame, data: URL
    {"Origin": "https://127.0.0.1:{port}"},                   # another scheme
    {"Origin": "http://127.0.0.1:1"},                         # another port
    {"Origin": "http://127.0.0.1:{port}/path"},               # not an origin at all
    {"Origin": "http://127.0.0.1:{port}", "Sec-Fetch-Site": "cross-site"},
])
@pytest.mark.parametrize("path", [f"/pause?upstream={UP}", f"/resume?upstream={UP}", "/evict", "/nope"])
def test_every_cross_origin_post_is_refused(berth, headers, path):
    b = berth()
    given = {k: v.format(port=b.admin[1]) for k, v in headers.items()}
    status, body = admin(b, "POST", path, headers=given)
    assert status == 403, (given, body)
    assert "refused" in body["error"] and "--admin-token-file" in body["error"]
    assert upstream_stats(b, UP) is None


def test_dns_rebinding_is_refused(berth):
    """evil.example resolved to 127.0.0.1: its page is same-origin with the admin port, but its Host is not loopback."""
    b = berth()
    host = f"evil.example:{b.admin[1]}"
    status, body = admin(b, "POST", f"/pause?upstream={UP}", host=host,
                                headers={"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"})
    # The admin's Host check answers first (421, for every method); CrossSiteCheck's own rebinding rule stays behind it.
    assert status == 421 and "DNS rebinding" in body["error"], body
    assert upstream_stats(b, UP) is None


@pytest.mark.parametrize("host_name", ["127.0.0.1", "localhost"])
def test_same_origin_post_from_the_page_runs(berth, host_name):
    b = berth()
    host = f"{host_name}:{b.admin[1]}"
    status, body = admin(b, "POST", f"/pause?upstream={UP}", host=host,
                                headers={"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"})
    assert status == 200, body
    assert upstream_stats(b, UP)["state"] == "paused"


def test_scripts_without_browser_headers_still_work(berth):
    """curl and orchestrators send neither Origin nor Sec-Fetch-Site."""
    b = berth()
    assert admin(b, "POST", f"/pause?upstream={UP}")[0] == 200
    assert admin(b, "POST", f"/resume?upstream={UP}", headers={"Sec-Fetch-Site": "none"})[0] == 200


def test_reads_are_not_checked(berth):
    """A cross-site page cannot read the answer of a GET (no CORS), and a GET changes nothing."""
    b = berth()
    status, body = admin(b, "GET", "/stats", headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert status == 200 and "totals" in body


def test_with_a_token_the_token_is_what_counts(berth, token_file):
    b = berth("--admin-token-file", token_file)
    cross = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    status, body = admin(b, "POST", f"/pause?upstream={UP}", headers=cross)
    assert status == 401, body
    # A browser cannot attach the token cross-site (that needs a CORS preflight berth never grants), so a request
    # that carries it is not a forgery, whatever its Origin says.
    status, body = admin(b, "POST", f"/pause?upstream={UP}", headers={**cross, "Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
