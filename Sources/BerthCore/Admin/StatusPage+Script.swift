// The status page's script, part one: polling /stats, the history behind the sparklines, search, sort and paging.

/// The page's polling and view code.
extension StatusPage {
    /// State, refresh loop and the table's view (which upstreams, in which order, which page).
    ///
    /// At 10,000 upstreams /stats is ~10 MB: the page parses it once per refresh, keeps a fixed-size ring of rates
    /// per upstream (typed arrays, no garbage per sample), and builds DOM rows for one page only. Refreshes never
    /// overlap: the next is scheduled when the last has finished, so a slow berth is asked less often, not more.
    static let script = #"""
        "use strict";
        const HISTORY = 90;                       // samples per upstream: 3 minutes at the default 2 s refresh
        const TOKEN_KEY = "berth-admin-token";    // sessionStorage key; the token is never put in a URL
        const $ = (id) => document.getElementById(id);
        const S = {
          doc: null, shown: [], hist: new Map(), total: newHist(), gen: 0, lastAt: 0, lastUptime: -1,
          token: sessionStorage.getItem(TOKEN_KEY) || "", needToken: false,
          page: 0, size: 50, query: "", filter: "all", sort: "name", expanded: new Set(),
          interval: 2000, timer: 0, inFlight: false, timing: null, noticeIsError: false,
        };
        window.berthStatus = S;                   // tests and bench read S.timing (the last refresh's phases, in ms)

        function newHist() {
          return { r: new Float32Array(HISTORY), e: new Float32Array(HISTORY), n: 0, i: 0, req: -1, err: 0, rate: null, erate: null, g: 0 };
        }
        function push(h, r, e) {
          h.r[h.i] = r; h.e[h.i] = e; h.i = (h.i + 1) % HISTORY;
          if (h.n < HISTORY) h.n++;
          h.rate = r; h.erate = e;
        }
        // One sample: counters since the previous refresh, as rates. A counter that went backwards starts afresh.
        function observe(h, req, err, dt) {
          if (h.req >= 0 && dt > 0 && req >= h.req && err >= h.err) push(h, (req - h.req) / dt, (err - h.err) / dt);
          h.req = req; h.err = err; h.g = S.gen;
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
          if (S.inFlight) return;
          S.inFlight = true;
          const t0 = performance.now();
          try {
            const r = await fetch("/stats", { headers: authHeaders(), cache: "no-store" });
            if (r.status === 401) return askToken(S.token ? "berth refused this token; type it again." : "This berth needs its admin token.");
            const text = await r.text();
            if (!r.ok) return notice(`GET /stats: ${r.status} ${errorText(text)}`, true);
            const t1 = performance.now();
            const doc = JSON.parse(text);
            const t2 = performance.now();
            ingest(doc, t0);
            view();
            const t3 = performance.now();
            render();
            const t4 = performance.now();
            S.timing = { fetch: t1 - t0, parse: t2 - t1, ingest: t3 - t2, render: t4 - t3, total: t4 - t0, bytes: text.length, upstreams: doc.upstreams.length };
            footer();
            if (S.noticeIsError) notice("");
          } catch (e) {
            notice(`berth unreachable: ${e.message}`, true);
          } finally {
            S.inFlight = false;
            schedule();
          }
        }
        // A hidden tab stops polling (at 10,000 upstreams each /stats holds berth's admin loop ~26 ms) and catches up
        // when shown again.
        function schedule() {
          clearTimeout(S.timer);
          if (S.interval > 0 && !S.needToken && !document.hidden) S.timer = setTimeout(refresh, S.interval);
        }
        document.addEventListener("visibilitychange", () => { if (!document.hidden && S.interval > 0 && !S.needToken) refresh(); });

        function ingest(doc, at) {
          const dt = S.lastAt ? (at - S.lastAt) / 1000 : 0;
          if (doc.uptime_seconds < S.lastUptime) { S.hist.clear(); S.total = newHist(); }   // berth restarted
          S.lastAt = at; S.lastUptime = doc.uptime_seconds; S.gen++;
          for (const u of doc.upstreams) {
            let h = S.hist.get(u.upstream);
            if (!h) { h = newHist(); S.hist.set(u.upstream, h); }
            u.errors = sum(u.failures);
            observe(h, u.requests, u.errors, dt);
            u.h = h;
          }
          for (const [k, h] of S.hist) if (h.g !== S.gen) S.hist.delete(k);       // forgotten upstreams
          observe(S.total, doc.totals.requests, sum(doc.totals.failures), dt);
          S.doc = doc;
        }

        const SORTS = {
          name: null, rate: (u) => u.h.rate || 0, requests: (u) => u.requests, errors: (u) => u.errors,
          open: (u) => u.open, pending: (u) => u.pending,
        };
        // Which upstreams the table shows: /stats lists them by name already, so only other orders sort.
        function view() {
          const q = S.query, f = S.filter, key = SORTS[S.sort];
          let list = S.doc ? S.doc.upstreams : [];
          if (q || f !== "all") list = list.filter((u) => (!q || u.upstream.includes(q)) && (f === "all" || u.state === f));
          if (key) list = list.slice().sort((a, b) => key(b) - key(a) || (a.upstream < b.upstream ? -1 : 1));
          S.shown = list;
          S.page = Math.max(0, Math.min(S.page, Math.ceil(list.length / S.size) - 1));
        }
        function pages() { return Math.max(1, Math.ceil(S.shown.length / S.size)); }
        function goTo(p) { S.page = Math.max(0, Math.min(p, pages() - 1)); renderTable(); }

        let searchTimer = 0;
        $("search").addEventListener("input", (ev) => {
          clearTimeout(searchTimer);
          searchTimer = setTimeout(() => { S.query = ev.target.value.trim().toLowerCase(); S.page = 0; view(); renderTable(); }, 120);
        });
        $("filter").onchange = (ev) => { S.filter = ev.target.value; S.page = 0; view(); renderTable(); };
        $("sort").onchange = (ev) => { S.sort = ev.target.value; S.page = 0; view(); renderTable(); };
        $("size").onchange = (ev) => { S.size = +ev.target.value; S.page = 0; view(); renderTable(); };
        $("interval").onchange = (ev) => { S.interval = +ev.target.value; refresh(); };
        $("first").onclick = () => goTo(0);
        $("prev").onclick = () => goTo(S.page - 1);
        $("next").onclick = () => goTo(S.page + 1);
        $("last").onclick = () => goTo(pages() - 1);
        document.addEventListener("keydown", (ev) => {
          if (ev.key === "/" && !/^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName)) { ev.preventDefault(); $("search").focus(); }
        });

        """#
}
