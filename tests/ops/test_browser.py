"""The status page in a real browser (headless Chromium over its DevTools protocol, see chromium.py) against a live
berth with traffic and paused upstreams: what it renders, a screenshot, and a pause clicked in the page reaching
berth. The screenshot (tests/ops/screenshots/status-page.png, linked from the README) is rewritten by every run."""
import os
import re
import time

import pytest
import requests

from chromium import Chromium
from ops_helpers import HERE, TOKEN, Origin, Traffic, need, stats, upstream_stats
from waiting import wait_for

SCREENSHOT = os.path.join(HERE, "screenshots", "status-page.png")


@pytest.fixture
def browser(tmp_path):
    made = []

    def start(**kw):
        c = Chromium(str(tmp_path / f"chromium-{len(made)}"), binary=need("chromium", "chromium"), **kw)
        made.append(c)
        return c

    yield start
    for c in made:
        c.close()


def rows(page):
    """{upstream: [cell texts]} of the table as rendered."""
    return page.evaluate("""Object.fromEntries([...document.querySelectorAll('#rows tr[data-upstream]')]
        .map(tr => [tr.dataset.upstream, [...tr.cells].map(td => td.innerText.trim())]))""")


def set_refresh(page, ms):
    page.evaluate(f"(() => {{ const s = document.getElementById('interval'); s.value = '{ms}'; s.dispatchEvent(new Event('change')); }})()")


def refreshes(page):
    return page.evaluate("window.berthStatus.gen")


def wait_refresh(page):
    """Until the page has fetched /stats once more than now."""
    n = refreshes(page)
    wait_for(lambda: refreshes(page) > n + 1, timeout=20, interval=0.2, what="the page to refresh")


def test_page_renders_live_berth_and_a_click_pauses(slow_berth, origin, browser):
    b = slow_berth()
    calm = Origin()
    try:
        busy, rejected, held, refused = origin.hostport, "127.0.0.1:9", "127.0.0.1:8", "127.0.0.1:1"
        for up, mode in ((rejected, "reject"), (held, "hold")):
            assert requests.post(b.admin_url + f"/pause?upstream={up}&mode={mode}", timeout=10).status_code == 200
        traffic = Traffic(b, {f"http://{busy}/": 20, f"http://{calm.hostport}/": 4, f"http://{rejected}/": 2, f"http://{refused}/": 1})
        page = browser()
        try:
            page.navigate(b.admin_url + "/")
            set_refresh(page, 1000)
            wait_for(lambda: len(rows(page) or {}) == 5, timeout=20, interval=0.2, what="five upstream rows")
            # Sparklines need a few samples: let the history fill for a while.
            wait_for(lambda: refreshes(page) >= 20, timeout=40, interval=0.2, what="twenty refreshes")
            page.click(f'tr[data-upstream="{busy}"] button.link')          # expand its details
            wait_for(lambda: page.evaluate("document.querySelectorAll('#rows tr.detail').length") == 1,
                     timeout=20, interval=0.2, what="the detail row")
            os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
            page.screenshot(SCREENSHOT)
        finally:
            traffic.stop()

        # At rest, the page shows what /stats says.
        wait_refresh(page)
        doc = stats(b)
        shown = rows(page)
        assert sorted(shown) == sorted(u["upstream"] for u in doc["upstreams"])
        for u in doc["upstreams"]:
            cells = shown[u["upstream"]]
            state = "active" if u["state"] == "active" else f"paused · {u['pause_mode']}"
            assert cells[1] == state, cells
            assert cells[2] == str(u["epoch"])
            assert cells[3] == f"{u['open']} / {u['limits']['max_per_route']}"
            assert cells[4:8] == [str(u[k]) for k in ("idle", "busy", "connecting", "pending")]
            assert cells[8] == f"{u['requests']:,}"
            assert cells[9].split()[0] == str(sum(u["failures"].values()))
            assert cells[13] == "-", "no freezer watch field in /stats yet"
            assert cells[14] == ("Resume" if u["state"] == "paused" else "Pause") + "Evict"   # two buttons
        assert "connect-refused" in shown[refused][9] and "upstream-paused" in shown[rejected][9]
        assert re.fullmatch(r"[\d.]+ ms / [\d.]+ ms", shown[busy][12]), shown[busy][12]
        text = page.evaluate("document.body.innerText")
        assert f"{doc['version']} · profile {doc['profile']}" in text
        assert "max-total 200" in text and "max-per-route 100" in text and "acquire-timeout 5 s" in text
        assert f"upstream-paused {doc['totals']['errors']['upstream-paused']:,}" in text
        assert "FAILURES BY CAUSE" in text and "TIMEOUTS" in text           # the expanded detail row (h3s, upper-cased)
        assert "RETRIES BY REASON" in text
        # Issue 20's events in the summary: none happened here, and the cards say so.
        for card in ("Dead peers", "Dead-peer retries", "Keep-alive-hint closes"):
            assert re.search(re.escape(card) + r"\s+0\b", text, re.IGNORECASE), card
        # At 1,400 px wide the table fits the page: each row's actions cell, and its buttons, end inside the table's box.
        page.send("Emulation.setDeviceMetricsOverride", width=1400, height=900, deviceScaleFactor=1, mobile=False)
        try:
            box = page.evaluate("""(() => {
                const r = e => e.getBoundingClientRect();
                const rows = [...document.querySelectorAll('#rows tr[data-upstream]')];
                return {table: r(document.getElementById('upstreams')).right, page: document.documentElement.clientWidth,
                        cells: rows.map(tr => r(tr.cells[tr.cells.length - 1]).right),
                        buttons: rows.flatMap(tr => [...tr.cells[tr.cells.length - 1].querySelectorAll('button')].map(b => r(b).right))};
            })()""")
        finally:
            page.send("Emulation.clearDeviceMetricsOverride")
            # The window's own size comes back a frame or two later; a click aimed before then lands elsewhere.
            wait_for(lambda: page.evaluate("innerWidth") != 1400, timeout=10, interval=0.05, what="the window's own size")
        assert box["page"] == 1400, box
        assert box["cells"] and max(box["cells"] + box["buttons"]) <= box["table"] + 0.5, box
        assert box["table"] <= box["page"], box
        spark = page.evaluate(f"document.querySelector('tr[data-upstream=\"{busy}\"] canvas').title")
        assert re.match(r"now [\d.]+ requests/s, [\d.]+ errors/s; \d+ samples", spark), spark
        assert int(spark.split("; ")[1].split()[0]) >= 18

        # A pause clicked in the page, confirmed in its dialog, reaches berth.
        # The table is rebuilt every 2 s (and relaid out after the 1,400 px check): a click that lands between two
        # renderings misses its button, so it is repeated until the dialog opens.
        def pause_dialog_open():
            if not page.evaluate("document.getElementById('act').open"):
                page.click(f'tr[data-upstream="{calm.hostport}"] button[data-action="pause"]')
            return page.evaluate("document.getElementById('act').open") is True
        wait_for(pause_dialog_open, timeout=10, interval=0.3, what="the pause dialog")
        assert page.evaluate("document.getElementById('actTitle').textContent") == f"Pause {calm.hostport}"
        assert upstream_stats(b, calm.hostport)["state"] == "active", "nothing happens before the confirmation"
        page.click("#actGo")
        u = wait_for(lambda: (u := upstream_stats(b, calm.hostport)) and u["state"] == "paused" and u,
                     timeout=20, interval=0.2, what="berth to pause it")
        assert u["pause_mode"] == "hold"
        wait_for(lambda: rows(page)[calm.hostport][1] == "paused · hold",
                 timeout=20, interval=0.2, what="the row to show the pause")
        assert page.evaluate("document.getElementById('notice').textContent").startswith(f"pause {calm.hostport}: state paused")

        # A cancelled evict does nothing.
        idle = upstream_stats(b, busy)["connections"]["closed"]["evicted"]
        page.click(f'tr[data-upstream="{busy}"] button[data-action="evict"]')
        page.click('#act button[value="cancel"]')
        time.sleep(0.5)
        assert upstream_stats(b, busy)["connections"]["closed"]["evicted"] == idle
        # The page never put anything in its URL.
        assert page.evaluate("location.href") == b.admin_url + "/"
    finally:
        calm.close()


def test_page_with_a_token_asks_for_it_and_sends_it(slow_berth, token_file, browser):
    b = slow_berth("--admin-token-file", token_file)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    requests.post(b.admin_url + "/resume?upstream=127.0.0.1:9", headers=auth, timeout=10)
    page = browser()
    page.navigate(b.admin_url + "/ui")
    wait_for(lambda: page.evaluate("document.getElementById('tokenDlg').open"),
             timeout=20, interval=0.2, what="the token dialog")
    assert "needs its admin token" in page.evaluate("document.getElementById('notice').textContent")
    page.click("#tokenInput")
    page.type(TOKEN)
    page.click("#tokenUse")
    wait_for(lambda: "127.0.0.1:9" in (rows(page) or {}),
             timeout=20, interval=0.2, what="the table, fetched with the token")
    page.click('tr[data-upstream="127.0.0.1:9"] button[data-action="pause"]')
    page.click("#actGo")
    wait_for(lambda: upstream_stats(b, "127.0.0.1:9", token=TOKEN)["state"] == "paused",
             timeout=20, interval=0.2, what="the pause, sent with the token")
    # Kept in the page only: not in the URL, not in sessionStorage (the box was not ticked).
    assert page.evaluate("location.href") == b.admin_url + "/ui"
    assert page.evaluate("sessionStorage.length") == 0
    assert TOKEN not in page.evaluate("document.documentElement.outerHTML")


def test_search_and_pages_with_many_upstreams(berth, browser):
    b = berth()
    n = 1200
    session = requests.Session()
    for i in range(n):
        session.post(b.admin_url + f"/pause?upstream=127.0.0.1:{20000 + i}", timeout=10)
    page = browser()
    page.navigate(b.admin_url + "/")
    info = lambda: page.evaluate("document.getElementById('pageInfo').textContent")  # noqa: E731
    wait_for(lambda: info() == "1–50 of 1,200 · page 1 of 24", timeout=20, interval=0.2, what="the first page")
    assert len(rows(page)) == 50
    # Each page is fetched from berth (/stats?limit=&offset=), so the table follows a click once the answer is in.
    page.click("#next")
    wait_for(lambda: info() == "51–100 of 1,200 · page 2 of 24", timeout=20, interval=0.1, what="the second page")
    assert min(rows(page)) == "127.0.0.1:20050"
    page.click("#last")
    wait_for(lambda: info() == "1,151–1,200 of 1,200 · page 24 of 24", timeout=20, interval=0.1, what="the last page")
    page.click("#search")
    page.type("127.0.0.1:2100")
    wait_for(lambda: info() == "1–10 of 10 (1,200 in all) · page 1 of 1",
             timeout=20, interval=0.2, what="the search to filter")
    assert sorted(rows(page)) == [f"127.0.0.1:2100{d}" for d in range(10)]
    page.evaluate("(() => { const s = document.getElementById('filter'); s.value = 'active'; s.dispatchEvent(new Event('change')); })()")
    wait_for(lambda: info() == "0 of 1,200", timeout=20, interval=0.1, what="the state filter")
    assert page.evaluate("document.getElementById('empty').hidden") is False
