// The status page's script, part two: the totals, the limits, one page of upstream rows, details and sparklines.

/// The page's rendering code.
extension StatusPage {
    /// Rendering. Every value goes in with `textContent`, never as markup: upstream names come from requests.
    static let render = #"""
        function el(tag, cls, text) {
          const e = document.createElement(tag);
          if (cls) e.className = cls;
          if (text != null) e.textContent = text;
          return e;
        }
        function cell(tr, content, cls) {
          const td = el("td", cls);
          if (content instanceof Node) td.append(content); else td.textContent = content;
          tr.append(td);
          return td;
        }
        function fmt(n) { return n == null ? "-" : n.toLocaleString("en-US"); }
        function rate(r) { return r == null ? "-" : r < 10 ? r.toFixed(2) : r < 100 ? r.toFixed(1) : Math.round(r).toLocaleString("en-US"); }
        function ms(v) {
          if (v == null) return "-";
          if (v < 1) return v.toFixed(2) + " ms";
          if (v < 1000) return (v < 10 ? v.toFixed(1) : Math.round(v)) + " ms";
          if (v >= 60000 && v % 60000 === 0) return v / 60000 + " min";
          const s = v / 1000;
          return (Number.isInteger(s) ? s : s.toFixed(s < 10 ? 2 : 1)) + " s";
        }
        function duration(s) {
          if (s < 60) return s.toFixed(1) + " s";
          const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
          return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${Math.floor(s % 60)}s`;
        }
        // Non-zero entries of a counter object, largest first.
        function nonZero(o) { return Object.entries(o).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]); }

        function render() {
          if (!S.doc) return;
          renderSummary(S.doc);
          // A row under an open dialog stays as it was confirmed; rows under a pressed button wait for its release.
          if (!$("act").open && !S.pressed) renderTable();
        }

        function card(label, value, extra, cls) {
          const c = el("div", "card" + (cls ? " " + cls : ""));
          c.append(el("div", "k", label), el("div", "v", value));
          if (extra) c.append(extra);
          return c;
        }
        function bar(used, limit) {
          const b = el("div", "bar"), i = el("i");
          const f = limit ? Math.min(1, used / limit) : 0;
          i.style.width = (f * 100).toFixed(1) + "%";
          if (f >= 0.9) i.className = "hot";
          b.append(i);
          return b;
        }
        function renderSummary(d) {
          const t = d.totals;
          const workers = d.workers ?? t.workers ?? "-";   // shown once /stats reports it
          $("ident").textContent = `${d.version} · profile ${d.profile} · up ${duration(d.uptime_seconds)} · workers ${workers}`;
          const spark0 = el("canvas");
          $("cards").replaceChildren(
            card("Upstreams", fmt(t.upstreams)), card("Callers", fmt(t.callers)),
            card("Open / max-total", `${fmt(t.open)} / ${fmt(t.max_total)}`, bar(t.open, t.max_total), "wide"),
            card("Idle", fmt(t.idle)), card("Busy", fmt(t.busy)), card("Connecting", fmt(t.connecting)), card("Pending", fmt(t.pending)),
            card("Requests/s", rate(S.total.rate)), card("Errors/s", rate(S.total.erate)),
            card("Last minutes", "", spark0, "wide"),
            card("Requests", fmt(t.requests)), card("Received", fmt(t.requests_received)), card("Retries", fmt(t.retries)),
            card("Callers accepted", fmt(t.callers_accepted)), card("Bad requests", fmt(t.bad_requests)),
            card("Header timeouts", fmt(t.header_timeouts)), card("Tunnels", fmt(t.tunnels)),
            card("VM restores", fmt(t.vm_restores)),
            card("Opened", fmt(t.connections.opened)), card("Reused", fmt(t.connections.reused)),
            card("Dead peers", fmt(t.connections.closed["dead-peer"])), card("Dead-peer retries", fmt(t.replays["dead-peer"])),
            card("Keep-alive-hint closes", fmt(t.connections.closed["keep-alive-hint"])));
          spark(spark0, S.total, 236, 22);
          const causes = nonZero(t.errors);
          $("causes").replaceChildren(...(causes.length ? causes.map(([k, v]) => el("span", "chip bad", `${k} ${fmt(v)}`)) : [el("span", "chip", "none")]));
          $("limits").replaceChildren(...limits(d).map(([k, v]) => el("span", "chip", `${k} ${v}`)));
        }
        // The settings in force. Per-route values come from the upstreams on this page; destinations may override them.
        function limits(d) {
          const ups = d.upstreams, out = [["max-total", fmt(d.totals.max_total)]];
          const common = (f, show) => {
            if (!ups.length) return "-";
            const v = f(ups[0]);
            for (const u of ups) if (f(u) !== v) return "varies by destination";
            return show(v);
          };
          out.push(["max-per-route", common((u) => u.limits.max_per_route, fmt)],
                   ["max-pending", common((u) => u.limits.max_pending, fmt)],
                   ["max-requests-per-connection", common((u) => u.limits.max_requests_per_connection, fmt)]);
          for (const [k, name] of [["connect", "connect-timeout"], ["socket", "socket-timeout"], ["acquire", "acquire-timeout"],
                                   ["idle", "idle-timeout"], ["max_connection_age", "max-connection-age"]])
            out.push([name, common((u) => u.timeouts_ms[k], ms)]);
          return out;
        }

        function renderTable() {
          const start = S.page * S.size, rows = S.shown, sparks = [];
          const body = document.createDocumentFragment();
          for (const u of rows) {
            body.append(row(u, sparks));
            if (S.expanded.has(u.upstream)) body.append(detail(u));
          }
          $("rows").replaceChildren(body);
          for (const [c, h] of sparks) spark(c, h, 120, 24);
          const n = matched(), all = S.doc ? S.doc.totals.upstreams : 0;
          $("pageInfo").textContent = n
            ? `${fmt(start + 1)}–${fmt(start + rows.length)} of ${fmt(n)}${n < all ? ` (${fmt(all)} in all)` : ""} · page ${S.page + 1} of ${pages()}`
            : `0 of ${fmt(all)}`;
          $("empty").hidden = n > 0 || !S.doc;
          $("first").disabled = $("prev").disabled = S.page === 0;
          $("next").disabled = $("last").disabled = S.page >= pages() - 1;
        }

        function badge(u) {
          const mode = u.pause_mode || "hold";
          return el("span", "badge " + (u.state === "paused" ? mode : "active"), u.state === "paused" ? `paused · ${mode}` : "active");
        }
        function watchText(u) {
          const w = u.freezer;                    // present while the freezer watch follows the upstream's cgroup
          if (w == null) return "-";
          return [w.frozen ? "frozen" : "thawed", `v${w.cgroup_version}`, w.cgroup].join(" · ");
        }
        function row(u, sparks) {
          const tr = el("tr", u.state === "paused" ? "paused" : "");
          tr.dataset.upstream = u.upstream;
          const name = el("button", "link", u.upstream);
          name.type = "button"; name.title = "show details";
          name.onclick = () => { S.expanded.has(u.upstream) ? S.expanded.delete(u.upstream) : S.expanded.add(u.upstream); renderTable(); };
          cell(tr, name, "wrap");
          cell(tr, badge(u));
          const epoch = el("span", null, fmt(u.epoch));          // generation: present once a Berth-Generation named one
          if (u.generation != null) epoch.append(" ", el("span", "sub", `gen ${u.generation.slice(0, 12)} · ${fmt(u.generation_changes)} changes`));
          epoch.title = u.generation != null ? `generation ${u.generation}` : "";
          cell(tr, epoch, "num wrap");
          cell(tr, `${fmt(u.open)} / ${fmt(u.limits.max_per_route)}`, "num");
          for (const k of ["idle", "busy", "connecting", "pending"]) cell(tr, fmt(u[k]), "num");
          cell(tr, fmt(u.requests), "num");
          const causes = nonZero(u.failures), errs = el("span", null, fmt(u.errors));
          if (causes.length) errs.append(" ", el("span", "sub", causes.slice(0, 2).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") + (causes.length > 2 ? ", …" : "")));
          cell(tr, errs, u.errors ? "bad wrap" : "wrap");
          const c = el("canvas");
          sparks.push([c, u.h]);
          cell(tr, c);
          const l = u.latency_ms;
          cell(tr, pair(ms(l.acquire_wait.p50), ms(l.acquire_wait.p99)), "num wrap");
          cell(tr, pair(ms(l.time_to_first_byte.p50), ms(l.time_to_first_byte.p99)), "num wrap");
          cell(tr, watchText(u), "wrap");
          const acts = el("span", "actions");
          acts.append(u.state === "paused" ? button("Resume", () => ask("resume", u.upstream)) : button("Pause", () => ask("pause", u.upstream)),
                      button("Evict", () => ask("evict", u.upstream)));
          cell(tr, acts);
          return tr;
        }
        // "p50 / p99" that may break between the two figures only, when the table needs the room.
        function pair(a, b) {
          const s = el("span");
          s.append(el("span", "nw", `${a} /`), " ", el("span", "nw", b));
          return s;
        }
        function button(label, onclick) {
          const b = el("button", null, label);
          b.type = "button"; b.dataset.action = label.toLowerCase(); b.onclick = onclick;
          return b;
        }
        function list(title, pairs, cls) {
          const box = el("div", cls), dl = el("dl");
          box.append(el("h3", null, title), dl);
          for (const [k, v] of pairs.length ? pairs : [["none", ""]]) dl.append(el("dt", null, k), el("dd", null, v));
          return box;
        }
        function detail(u) {
          const tr = el("tr", "detail"), td = el("td");
          td.colSpan = 15;
          const g = el("div", "grid"), l = u.latency_ms;
          const q = (h) => `${[h.p50, h.p90, h.p99].map(ms).join(" / ")} (${fmt(h.count)})`;
          g.append(
            list("Limits", Object.entries(u.limits).map(([k, v]) => [k.replace(/_/g, "-"), fmt(v)])),
            list("Timeouts", Object.entries(u.timeouts_ms).map(([k, v]) => [k.replace(/_/g, "-"), ms(v)])),
            list("Connections", [["opened", fmt(u.connections.opened)], ["reused", fmt(u.connections.reused)], ["retries", fmt(u.retries)],
                                 ...nonZero(u.connections.closed).map(([k, v]) => ["closed " + k, fmt(v)])]),
            list("Failures by cause", nonZero(u.failures).map(([k, v]) => [k, fmt(v)])),
            list("Retries by reason", nonZero(u.replays).map(([k, v]) => [k, fmt(v)])),
            list("Latency p50 / p90 / p99 (count)", [["acquire wait", q(l.acquire_wait)], ["time to first byte", q(l.time_to_first_byte)],
                                                     ["requests/s now", rate(u.h.rate)], ["errors/s now", rate(u.h.erate)]], "wide"));
          td.append(g);
          tr.append(td);
          return tr;
        }

        // Requests/s as a line and errors/s as red bars, on one scale, newest on the right; a full history spans
        // the width.
        function spark(c, h, w, ht) {
          const dpr = window.devicePixelRatio || 1;
          c.width = w * dpr; c.height = ht * dpr; c.style.width = w + "px"; c.style.height = ht + "px";
          c.title = `now ${rate(h.rate)} requests/s, ${rate(h.erate)} errors/s; ${h.n} samples`;
          const g = c.getContext("2d");
          g.scale(dpr, dpr);
          if (h.n < 2) { g.fillStyle = "#9aa3ad"; g.font = "10px sans-serif"; g.fillText("collecting…", 2, ht - 8); return; }
          const at = (k) => (h.i - h.n + k + HISTORY) % HISTORY;
          let max = 0;
          for (let k = 0; k < h.n; k++) max = Math.max(max, h.r[at(k)], h.e[at(k)]);
          max = max || 1;
          // A young history is drawn over at least 20 slots, so a few samples make a line rather than a sliver.
          const step = w / (Math.max(h.n, 20) - 1), x0 = w - (h.n - 1) * step, y = (v) => ht - 1 - (v / max) * (ht - 3);
          g.fillStyle = "#eef1f4"; g.fillRect(x0, 0, w - x0, ht);
          g.fillStyle = "#d9534f";
          for (let k = 0; k < h.n; k++) { const e = h.e[at(k)]; if (e > 0) { const bh = Math.max(1.5, (e / max) * (ht - 2)); g.fillRect(x0 + k * step - 1, ht - bh, 2, bh); } }
          g.strokeStyle = "#2f6fdf"; g.lineWidth = 1.5; g.beginPath();
          for (let k = 0; k < h.n; k++) { const x = x0 + k * step; k ? g.lineTo(x, y(h.r[at(k)])) : g.moveTo(x, y(h.r[at(k)])); }
          g.stroke();
        }
        function footer() {
          const t = S.timing;
          $("footer").textContent = `GET /stats: ${(t.bytes / 1e3).toFixed(1)} KB, ${fmt(t.upstreams)} of ${fmt(t.all)} upstreams, fetched in ${t.fetch.toFixed(0)} ms, `
            + `parsed in ${t.parse.toFixed(0)} ms, shown in ${(t.ingest + t.render).toFixed(0)} ms · `
            + (S.interval ? `refreshing every ${S.interval / 1000} s` : "refresh off") + " · this page is served by berth itself (see api.md)";
        }

        """#
}
