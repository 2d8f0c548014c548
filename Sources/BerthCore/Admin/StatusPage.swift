// The status page: one HTML document with its CSS and JavaScript inline, served from the binary at GET / and /ui.
import HTTP1

/// The operator's live page. The document is static: it holds no figures and no secret (the figures come from
/// /stats, asked for by the page's script with the token the operator types in), so it is served without the token,
/// as the health probes are. No external asset, CDN or framework: the page must work on an air-gapped host and
/// must not leak that an operator looked at it.
enum StatusPage {
    /// The paths that serve the page.
    static let paths: Set<Substring> = ["/", "/ui"]

    /// The whole document, assembled once on first use.
    static let document: [UInt8] = Array((markupHead + "<style>\n" + style + "</style>\n" + markupBody
        + "<script>\n" + script + render + actions + "</script>\n</body>\n</html>\n").utf8)

    /// What the browser may do with the page: only inline script and style, requests to this admin listener only,
    /// never framed (a framed page with pause buttons invites clickjacking), and it sends no referrer.
    static let headers: [(name: StaticString, value: String)] = [
        ("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            + "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    ]

    /// The page as an admin answer (headers only for HEAD).
    static func response(_ head: RequestHead) -> AdminResponse {
        var r = AdminResponse(status: 200, body: document)
        r.contentType = "text/html; charset=utf-8"
        r.headers = headers
        r.headOnly = head.method == .head
        return r
    }
}
