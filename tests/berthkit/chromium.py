"""Headless Chromium (Debian's package) driven over the DevTools protocol: a websocket (websocket-client from PyPI)
carrying JSON commands. Enough for the browser test and bench/status-page: load a page, run script in it, click
with real mouse events, type, and take a screenshot."""
import base64
import json
import re
import subprocess
import threading
import time

import urllib.request

import websocket
from .process import stop_process


class Chromium:
    """One headless browser with one page, on a private profile in `profile_dir`."""

    def __init__(self, profile_dir, binary="chromium", width=1500, height=900, extra_args=()):
        """`extra_args` go on chromium's command line (a proxy: `--proxy-server=...`)."""
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile_dir}",
             f"--window-size={width},{height}", *extra_args, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log = []
        found = threading.Event()
        port = {}

        def drain():
            # Chromium names its DevTools port on stderr; the rest is kept for failure messages.
            for line in self.proc.stderr:
                self.log.append(line)
                m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
                if m:
                    port["n"] = int(m.group(1))
                    found.set()
        threading.Thread(target=drain, daemon=True).start()
        if not found.wait(60):
            self.close()
            raise RuntimeError("chromium did not start: " + "".join(self.log[-20:]))
        self.http = f"http://127.0.0.1:{port['n']}"
        with urllib.request.urlopen(self.http + "/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.send("Page.enable")
        self.send("Runtime.enable")

    def send(self, method, **params):
        """One DevTools command; its result (events arriving meanwhile are dropped)."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def evaluate(self, expression):
        """The value of `expression` in the page (promises awaited)."""
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def navigate(self, url):
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.evaluate("document.readyState") == "complete" and self.evaluate("location.href") == url:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{url} did not load")

    def click(self, selector):
        """A real left click (mouse moved, pressed, released) at the middle of the element `selector` names."""
        box = self.evaluate(f"""(() => {{
            const e = document.querySelector({json.dumps(selector)});
            if (!e) return null;
            e.scrollIntoView({{block: "center"}});
            const r = e.getBoundingClientRect();
            return {{x: r.x + r.width / 2, y: r.y + r.height / 2}};
        }})()""")
        if box is None:
            raise RuntimeError(f"nothing matches {selector}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1)

    def type(self, text):
        """Types `text` into the focused element, as a keyboard would (input events fire)."""
        self.send("Input.insertText", text=text)

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        stop_process(self.proc, grace=15)
