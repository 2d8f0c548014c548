// The status page's CSS: system fonts, a dense table that stays readable at a glance, paused rows in amber.

/// The page's stylesheet.
extension StatusPage {
    /// The inline stylesheet.
    static let style = #"""
        :root { --fg: #1d2329; --muted: #69737d; --line: #dde2e7; --bg: #f6f7f9; --card: #fff; --blue: #2f6fdf;
                --amber: #b26b00; --amber-bg: #fff4e0; --red: #c9302c; --red-bg: #fdecea; --green: #1e7d3a; --green-bg: #e6f4ea; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
               color: var(--fg); background: var(--bg); }
        header { display: flex; align-items: center; gap: 14px; padding: 8px 16px; background: #1d2a38; color: #e8edf2; }
        header h1 { margin: 0; font-size: 18px; letter-spacing: .5px; }
        header select, header button { font: inherit; }
        #ident { color: #b8c4d0; }
        .grow { flex: 1; }
        main { padding: 10px 16px 4px; }
        #notice { margin: 0 0 8px; min-height: 1.4em; }
        #notice.error { color: var(--red); font-weight: 600; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(118px, 1fr)); gap: 6px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; }
        .card .k { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .3px; }
        .card .v { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .card.wide { grid-column: span 2; }
        .bar { height: 4px; background: var(--line); border-radius: 2px; margin-top: 3px; overflow: hidden; }
        .bar i { display: block; height: 100%; background: var(--blue); }
        .bar i.hot { background: var(--red); }
        .line { margin: 6px 0 0; color: var(--muted); }
        .line b { color: var(--fg); font-weight: 600; margin-right: 6px; }
        .chip { display: inline-block; padding: 0 6px; margin: 0 4px 2px 0; border-radius: 9px; background: var(--card);
                border: 1px solid var(--line); color: var(--fg); white-space: nowrap; }
        .chip.bad { background: var(--red-bg); border-color: #f3c1bd; color: var(--red); }
        .toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin: 12px 0 6px; }
        .toolbar input[type=search] { width: 280px; padding: 4px 8px; font: inherit; border: 1px solid #b9c2cb; border-radius: 4px; }
        select, button { font: inherit; padding: 2px 8px; border: 1px solid #b9c2cb; border-radius: 4px; background: #fff; color: var(--fg); cursor: pointer; }
        button:disabled { opacity: .45; cursor: default; }
        button.danger { background: var(--red); border-color: var(--red); color: #fff; }
        button.primary { background: var(--blue); border-color: var(--blue); color: #fff; }
        #pageInfo { margin: 0 6px; font-variant-numeric: tabular-nums; }
        table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); }
        th, td { padding: 3px 7px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; white-space: nowrap; }
        /* Fifteen columns fit 1,400 px (and less): headings, names, causes, cgroup paths and the p50 / p99 pairs may
           wrap. The table's automatic layout wraps them only when the row would not fit otherwise, so a wide window
           still shows one line per upstream, and the actions never leave the page. */
        th { white-space: normal; vertical-align: bottom; }
        td.wrap { white-space: normal; overflow-wrap: anywhere; }
        td.wrap .nw { white-space: nowrap; }
        th { position: sticky; top: 0; background: #eef1f4; font-size: 11px; text-transform: uppercase; letter-spacing: .3px; color: #4a545e; z-index: 1; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        tbody tr:nth-child(even of :not(.detail)) { background: #fafbfc; }
        tr.paused td { background: var(--amber-bg); }
        td.bad { color: var(--red); }
        td .sub { color: var(--muted); font-size: 11px; }
        td.bad .sub { color: var(--red); }
        button.link { border: 0; padding: 0; background: none; color: var(--blue); font-weight: 600; }
        button.link:hover { text-decoration: underline; }
        .badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 600; }
        .badge.active { background: var(--green-bg); color: var(--green); }
        .badge.hold { background: #ffe2b3; color: var(--amber); }
        .badge.reject { background: var(--red-bg); color: var(--red); }
        .actions button { margin-right: 4px; padding: 0 7px; }
        canvas { display: block; }
        tr.detail td { background: #f0f4f9; white-space: normal; }
        .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 4px 18px; padding: 4px 0; }
        .grid .wide { grid-column: span 2; }
        .grid h3 { margin: 2px 0; font-size: 11px; text-transform: uppercase; color: #4a545e; }
        .grid dl { margin: 0; display: grid; grid-template-columns: auto auto; gap: 0 10px; }
        .grid dt { color: var(--muted); }
        .grid dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
        #empty { color: var(--muted); padding: 10px; }
        footer { padding: 6px 16px 14px; color: var(--muted); font-size: 12px; }
        dialog { border: 1px solid #9aa5b0; border-radius: 8px; padding: 14px 18px; min-width: 380px; max-width: 560px; }
        dialog::backdrop { background: rgba(20, 28, 36, .35); }
        dialog h2 { margin: 0 0 6px; font-size: 16px; }
        dialog label { display: grid; grid-template-columns: 90px 1fr; align-items: center; gap: 8px; margin: 6px 0; }
        dialog label.check { display: block; }
        dialog label small { grid-column: 2; color: var(--muted); }
        dialog input[type=text], dialog input[type=number], dialog input[type=password], dialog select { font: inherit; padding: 3px 6px; width: 100%; }
        dialog menu { display: flex; justify-content: flex-end; gap: 8px; padding: 0; margin: 14px 0 0; }

        """#
}
