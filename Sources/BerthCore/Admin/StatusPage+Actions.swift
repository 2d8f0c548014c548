// The status page's script, part three: pause, resume and evict behind a confirmation, and the admin token dialog.

/// The page's actions and token handling.
extension StatusPage {
    /// Actions. Each is a POST from this page (same origin, so berth's cross-site check lets it through without a
    /// token) with the `Authorization` header when the operator gave a token. The token lives in a variable, and in
    /// sessionStorage only when asked; it never goes into a URL, where logs and history would keep it.
    static let actions = #"""
        const ACTIONS = {
          pause: {
            verb: "Pause",
            text: (u) => `Pause ${u}? Its idle connections are closed now; new requests wait (hold) or get 503 (reject) until it is resumed.`,
            fields: [["mode", "select", ["hold", "reject"], "hold: requests wait; reject: 503 at once"],
                     ["hold", "text", "", "how long a held request waits, e.g. 2s (default: the acquire timeout)"],
                     ["drain", "text", "", "answer once in-flight requests end, waiting at most this long, e.g. 5s"]],
          },
          resume: {
            verb: "Resume",
            text: (u) => `Resume ${u}? Its epoch moves on, so no connection opened before now is reused, and held requests are sent.`,
            fields: [["prewarm", "number", "0", "connections to open now, ahead of demand"]],
          },
          evict: {
            verb: "Evict",
            text: (u) => u ? `Close the idle connections of ${u}? Busy ones are not touched.` : "Close the idle connections of every upstream? Busy ones are not touched.",
            fields: [["idle_for", "text", "", "only connections idle at least this long, e.g. 30s"]],
            upstreamFields: [["forget", "checkbox", "", "also drop the entry when it has no connections left"]],
          },
        };

        function field([name, type, value, help]) {
          const label = el("label"), input = type === "select" ? el("select") : el("input");
          label.append(el("span", null, name.replace(/_/g, " ")), input, el("small", null, help));
          input.name = name;
          if (type === "select") for (const v of value) input.append(new Option(v, v));
          else { input.type = type; if (type !== "checkbox") { input.value = value; input.autocomplete = "off"; } }
          if (type === "number") { input.min = 0; input.max = 10000; }
          return label;
        }
        function ask(kind, upstream) {
          const a = ACTIONS[kind], dlg = $("act");
          $("actTitle").textContent = `${a.verb} ${upstream || "all upstreams"}`;
          $("actText").textContent = a.text(upstream);
          $("actFields").replaceChildren(...a.fields.concat(upstream ? a.upstreamFields || [] : []).map(field));
          const mode = dlg.querySelector("select[name=mode]"), hold = dlg.querySelector("input[name=hold]");
          if (mode) mode.onchange = () => { hold.disabled = mode.value === "reject"; if (hold.disabled) hold.value = ""; };
          $("actGo").textContent = a.verb;
          dlg.returnValue = "";
          dlg.onclose = () => {
            dlg.onclose = null;
            if (dlg.returnValue !== "go") return renderTable();
            const params = {};
            for (const input of $("actFields").querySelectorAll("input, select")) {
              if (input.type === "checkbox") { if (input.checked) params[input.name] = "true"; }
              else if (input.value !== "" && !input.disabled && !(input.name === "prewarm" && input.value === "0")) params[input.name] = input.value.trim();
            }
            post(kind, upstream, params);
          };
          dlg.showModal();
        }
        async function post(kind, upstream, params) {
          const q = new URLSearchParams();
          if (upstream) q.set("upstream", upstream);
          for (const [k, v] of Object.entries(params)) q.set(k, v);
          const path = `/${kind}` + (q.toString() ? "?" + q : "");
          const what = `${kind} ${upstream || "all upstreams"}`;
          try {
            notice(`${what}: sent…`);
            const r = await fetch(path, { method: "POST", headers: authHeaders(), cache: "no-store" });
            const text = await r.text();
            if (r.status === 401) return askToken(`berth refused the ${kind}: it needs the admin token.`);
            if (!r.ok) return notice(`${what}: ${r.status} ${errorText(text)}`, true);
            const answer = JSON.parse(text);
            notice(`${what}: ` + Object.entries(answer).filter(([k]) => k !== "upstream").map(([k, v]) => `${k.replace(/_/g, " ")} ${v}`).join(", "));
          } catch (e) {
            notice(`${what}: ${e.message}`, true);
          }
          refresh();
        }
        $("evictAll").onclick = () => ask("evict", null);

        function askToken(why) {
          S.needToken = true;
          $("tokenWhy").textContent = why;
          notice(why, true);
          if (!$("tokenDlg").open) $("tokenDlg").showModal();
        }
        $("tokenBtn").onclick = () => {
          $("tokenWhy").textContent = S.token ? "A token is in use." : "No token is in use.";
          $("tokenDlg").showModal();
        };
        $("tokenDlg").onclose = () => {
          const dlg = $("tokenDlg"), input = $("tokenInput"), choice = dlg.returnValue;
          if (choice === "use" && input.value.trim()) {
            S.token = input.value.trim();
            if ($("tokenKeep").checked) sessionStorage.setItem(TOKEN_KEY, S.token); else sessionStorage.removeItem(TOKEN_KEY);
          } else if (choice === "clear") {
            S.token = ""; sessionStorage.removeItem(TOKEN_KEY);
          }
          input.value = ""; dlg.returnValue = "";
          if (choice !== "use" && choice !== "clear" && S.needToken) return;   // cancelled: wait for the Token button
          S.needToken = false;
          refresh();
        };
        $("tokenKeep").checked = !!sessionStorage.getItem(TOKEN_KEY);
        refresh();

        """#
}
