// The status page's script, part one: polling /stats, the history behind the sparklines, search, sort and paging.

/// The page's polling and view code.
extension StatusPage {
    /// State, refresh loop and the table's view (which upstreams, in which order, which page).
    ///
    /// The page asks /stats for the one page it shows (`limit`, `offset`, `sort`, `q`, `state`): at 10,000 upstreams
    /// that is ~70 KB instead of the whole ~14 MB document, and berth searches, sorts and counts the matches. It keeps
    /// a fixed-size ring of rates per upstream it has shown (typed arrays, no garbage per sample). Refreshes never
    /// overlap: the next is scheduled when the last has finished, so a slow berth is asked less often, not more; a
    /// change of page, search, filter or order asked for during one is fetched as soon as it ends.
    static let script = #"""
        "use strict";
        const HISTORY = 90;                       // samples per upstream: 3 minutes at the default 2 s refresh
        const TOKEN_KEY = "berth-admin-token";    // sessionStorage key; the token is never put in a URL
        const $ = (id) => document.getElementById(id);
        const S = {
          doc: null, shown: [], hist: new Map(), total: newHist(), gen: 0, lastAt: 0, lastUptime: -1,
          token: sessionStorage.getItem(TOKEN_KEY) || "", needToken: false,
          page: 0, size: 50, query: "", filter: "all", sort: "name", expanded: new Set(),
          interval: 2000, timer: 0, inFlight: false, again: false, pressed: false, timing: null, noticeIsError: false,
        };
        window.berthStatus = S;                   // tests and bench read S.timing (the last refresh's phases, in ms)

        function newHist() {
          return { r: new Float32Array(HISTORY), e: new Float32Array(HISTORY), n: 0, i: 0, req: -1, err: 0, at: 0, rate: null, erate: null, g: 0 };
        }
        function push(h, r, e) {
          h.r[h.i] = r; h.e[h.i] = e; h.i = (h.i + 1) % HISTORY;
          if (h.n < HISTORY) h.n++;
          h.rate = r; h.erate = e;
        }
        // One sample: counters since this upstream was last seen, as rates. A counter that went backwards starts afresh.
        function observe(h, req, err, at) {
          const dt = (at - h.at) / 1000;
          if (h.req >= 0 && dt > 0 && req >= h.req && err >= h.err) push(h, (req - h.req) / dt, (err - h.err) / dt);
          h.req = req; h.err = err; h.at = at; h.g = S.gen;
        }
        // What the page asks for: the page it shows, in the order, search and state chosen (see api.md, GET /stats).
        function statsPath() {
          const p = new URLSearchParams({ limit: S.size, offset: S.page * S.size, sort: S.sort });
          if (S.query) p.set("q", S.query);
          if (S.filter !== "all") p.set("state", S.filter);
          return "/stats?" + p;
        }
        function sum(o) { let t = 0; for (const k in o) t += o[k]; return t; }
        function authHeaders() { return S.token ? { Authorization: "Bearer " + S.token } : {}; }
        function errorText(text) { try { return JSON.parse(text).error || text; } catch (e) { return text.slice(0, 200); } }
        function notice(text, isError) {
          const n = $("notice");
          n.textContent = text; n.className = isError ? "error" : ""; S.noticeIsError = !!isError;
        }

        async function refresh() {
          clearTimeout(S.timer);
          if (S.inFlight) { S.again = true; return S.done; }
          S.inFlight = true;
          let finished;
          S.done = new Promise((f) => { finished = f; });
          const t0 = performance.now();
          try {
            const path = statsPath();
            const r = await fetch(path, { headers: authHeaders(), cache: "no-store" });
            if (r.status === 401) return askToken(S.token ? "berth refused this token; type it again." : "This berth needs its admin token.");
            const text = await r.text();
            if (!r.ok) return notice(`GET ${path}: ${r.status} ${errorText(text)}`, true);
            const t1 = performance.now();
            const doc = JSON.parse(text);
            const t2 = performance.now();
            ingest(doc, t0);
            view();
            const t3 = performance.now();
            render();
            const t4 = performance.now();
            S.timing = { fetch: t1 - t0, parse: t2 - t1, ingest: t3 - t2, render: t4 - t3, total: t4 - t0, bytes: text.length,
                         upstreams: doc.upstreams.length, matched: doc.matched, all: doc.totals.upstreams };
            footer();
            if (S.noticeIsError) notice("");
          } catch (e) {
            notice(`berth unreachable: ${e.message}`, true);
          } finally {
            S.inFlight = false;
            finished();
            if (S.again) { S.again = false; refresh(); } else schedule();
          }
        }
        // A hidden tab stops polling and catches up when shown again.
        function schedule() {
          clearTimeout(S.timer);
          if (S.interval > 0 && !S.needToken && !document.hidden) S.timer = setTimeout(refresh, S.interval);
        }
        document.addEventListener("visibilitychange", () => { if (!document.hidden && S.interval > 0 && !S.needToken) refresh(); });

        function ingest(doc, at) {
          if (doc.uptime_seconds < S.lastUptime) { S.hist.clear(); S.total = newHist(); }   // berth restarted
          S.lastAt = at; S.lastUptime = doc.uptime_seconds; S.gen++;
          for (const u of doc.upstreams) {
            let h = S.hist.get(u.upstream);
            if (!h) { h = newHist(); S.hist.set(u.upstream, h); }
            u.errors = sum(u.failures);
            observe(h, u.requests, u.errors, at);
            u.h = h;
          }
          // Histories of upstreams not shown for HISTORY refreshes go: the ring would have rolled over anyway.
          for (const [k, h] of S.hist) if (S.gen - h.g > HISTORY) S.hist.delete(k);
          observe(S.total, doc.totals.requests, sum(doc.totals.failures), at);
          S.doc = doc;
        }

        // The table shows what berth answered: the page, already searched, filtered and sorted.
        function view() {
          S.shown = S.doc ? S.doc.upstreams : [];
          // A page past the end (upstreams forgotten, a narrower search) moves to the last one that exists.
          if (S.doc && S.page > 0 && S.shown.length === 0 && S.doc.matched > 0) { S.page = pages() - 1; refresh(); }
        }
        function matched() { return S.doc ? S.doc.matched : 0; }
        function pages() { return Math.max(1, Math.ceil(matched() / S.size)); }
        function goTo(p) { S.page = Math.max(0, Math.min(p, pages() - 1)); return refresh(); }
        function refetch() { S.page = 0; return refresh(); }

        let searchTimer = 0;
        $("search").addEventListener("input", (ev) => {
          clearTimeout(searchTimer);
          searchTimer = setTimeout(() => { S.query = ev.target.value.trim().toLowerCase(); refetch(); }, 120);
        });
        $("filter").onchange = (ev) => { S.filter = ev.target.value; refetch(); };
        $("sort").onchange = (ev) => { S.sort = ev.target.value; refetch(); };
        $("size").onchange = (ev) => { S.size = +ev.target.value; refetch(); };
        $("interval").onchange = (ev) => { S.interval = +ev.target.value; refresh(); };
        // A refresh between a button's press and release would replace the button and lose the click: the rows are
        // redrawn after the release (and after its click) instead.
        $("rows").addEventListener("pointerdown", () => { S.pressed = true; });
        document.addEventListener("pointerup", () => {
          if (S.pressed) { S.pressed = false; setTimeout(() => { if (!$("act").open) renderTable(); }, 0); }
        });
        $("first").onclick = () => goTo(0);
        $("prev").onclick = () => goTo(S.page - 1);
        $("next").onclick = () => goTo(S.page + 1);
        $("last").onclick = () => goTo(pages() - 1);
        document.addEventListener("keydown", (ev) => {
          if (ev.key === "/" && !/^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName)) { ev.preventDefault(); $("search").focus(); }
        });

        """#
}
