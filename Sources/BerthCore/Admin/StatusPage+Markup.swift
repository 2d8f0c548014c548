// The status page's HTML: the header, the totals, the upstream table with its toolbar, and the two dialogs.

/// The page's HTML.
extension StatusPage {
    /// Everything before the inline style.
    static let markupHead = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <link rel="icon" href="data:,">
        <title>berth status</title>

        """#

    /// The body up to the inline script. Ids are what the script (and the browser test) address.
    static let markupBody = #"""
        </head>
        <body>
        <header>
          <h1>berth</h1>
          <span id="ident">connecting to /stats…</span>
          <span class="grow"></span>
          <label>refresh <select id="interval">
            <option value="0">off</option><option value="1000">1 s</option><option value="2000" selected>2 s</option>
            <option value="5000">5 s</option><option value="10000">10 s</option><option value="30000">30 s</option>
          </select></label>
          <button id="tokenBtn" type="button" title="The token from --admin-token-file; kept in this tab only">Token</button>
        </header>
        <main>
        <p id="notice" role="status" aria-live="polite"></p>
        <section id="summary" aria-label="Totals">
          <div id="cards" class="cards"></div>
          <div class="line"><b>Errors by cause</b> <span id="causes"></span></div>
          <div class="line"><b>Limits in force</b> <span id="limits"></span></div>
        </section>
        <section aria-label="Upstreams">
          <div class="toolbar">
            <input id="search" type="search" placeholder="Search upstreams  ( / )" autocomplete="off" spellcheck="false" aria-label="Search upstreams">
            <select id="filter" aria-label="State">
              <option value="all">all states</option><option value="active">active</option><option value="paused">paused</option>
            </select>
            <select id="sort" aria-label="Sort">
              <option value="name">by name</option><option value="requests">by requests</option><option value="errors">by errors</option>
              <option value="open">by open connections</option><option value="pending">by pending</option>
            </select>
            <select id="size" aria-label="Rows per page">
              <option>25</option><option selected>50</option><option>100</option><option>200</option>
            </select>
            <button id="evictAll" type="button">Evict idle everywhere…</button>
            <span class="grow"></span>
            <span id="pager">
              <button id="first" type="button" aria-label="First page">«</button><button id="prev" type="button" aria-label="Previous page">‹</button>
              <span id="pageInfo"></span>
              <button id="next" type="button" aria-label="Next page">›</button><button id="last" type="button" aria-label="Last page">»</button>
            </span>
          </div>
          <table id="upstreams">
            <thead><tr>
              <th>Upstream</th><th>State</th><th class="num" title="epoch, and the generation a Berth-Generation header named">Epoch</th><th class="num" title="open / max-per-route">Open</th>
              <th class="num">Idle</th><th class="num">Busy</th><th class="num" title="connecting">Conn.</th>
              <th class="num" title="requests waiting for a connection">Pend.</th><th class="num">Requests</th>
              <th>Errors by cause</th><th title="requests/s (line) and errors/s (red), held in this page">Last minutes</th>
              <th class="num">Acquire p50 / p99</th><th class="num">TTFB p50 / p99</th><th>Freezer watch</th><th>Actions</th>
            </tr></thead>
            <tbody id="rows"></tbody>
          </table>
          <p id="empty" hidden>No upstream matches.</p>
        </section>
        </main>
        <footer id="footer"></footer>
        <dialog id="act">
          <form method="dialog">
            <h2 id="actTitle"></h2>
            <p id="actText"></p>
            <div id="actFields"></div>
            <menu><button value="cancel" type="submit" formnovalidate>Cancel</button><button id="actGo" value="go" type="submit" class="danger"></button></menu>
          </form>
        </dialog>
        <dialog id="tokenDlg">
          <form method="dialog">
            <h2>Admin token</h2>
            <p id="tokenWhy"></p>
            <input id="tokenInput" type="password" autocomplete="off" placeholder="the token from --admin-token-file" aria-label="Admin token">
            <label class="check"><input id="tokenKeep" type="checkbox"> remember in this tab (sessionStorage)</label>
            <menu><button value="clear" type="submit">Forget token</button><button value="cancel" type="submit">Cancel</button><button id="tokenUse" value="use" type="submit" class="primary">Use token</button></menu>
          </form>
        </dialog>

        """#
}
