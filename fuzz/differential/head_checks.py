"""Checks on a head berth forwarded (as the strict origin parsed it) against the request the caller sent."""
import re

HOP_BY_HOP = {"keep-alive", "proxy-connection", "te", "trailer", "proxy-authorization"}


def sent_authority(raw, target):
    """The authority of the caller's absolute-form request line whose path ends as the forwarded `target` does
    (lowercased), or None when there is none."""
    for m in re.finditer(rb"(?:^|\n)[A-Za-z]+ http://([^/?# ]*)([^ ]*) ", raw):
        path = m.group(2).decode("latin-1") or "/"
        if target.endswith(path) or target == path:
            return m.group(1).decode("latin-1").lower()
    return None


def check_head(raw, req):
    """The faults of the forwarded request `req` (strict_origin's dict) for the caller's bytes `raw`; [] if none."""
    faults = []
    fields = req["fields"]
    names = [k for k, _ in fields]
    hosts = [v for k, v in fields if k == "host"]
    want = sent_authority(raw, req["target"])
    if len(hosts) != 1:
        faults.append(f"{len(hosts)} Host fields")
    elif want is not None and hosts[0].lower() != want:
        faults.append(f"Host {hosts[0]!r}, the target says {want!r}")
    if names.count("content-length") > 1 or names.count("transfer-encoding") > 1:
        faults.append("a framing field repeated")
    if "content-length" in names and "transfer-encoding" in names:
        faults.append("Content-Length and Transfer-Encoding")
    tes = [v for k, v in fields if k == "transfer-encoding"]
    # The coding's case is the sender's (RFC 9110 7.8 names are case-insensitive; HAProxy forwards `Chunked` too).
    if tes and [t.lower() for t in tes] != ["chunked"]:
        faults.append(f"Transfer-Encoding forwarded as {tes}, not as the one coding berth framed the body by")
    if req["body"] and req["framing"] == "none":
        faults.append("a body without framing")
    listed = set()
    for k, v in fields:
        if k == "connection":
            listed |= {t.strip().lower() for t in v.split(",") if t.strip()}
    for t in listed - {"close", "keep-alive", "upgrade"}:
        if t in names:
            faults.append(f"{t} forwarded although Connection lists it")
    for h in HOP_BY_HOP & set(names):
        faults.append(f"hop-by-hop {h} forwarded")
    vias = [v for k, v in fields if k == "via"]
    own = [v for v in vias if "berth-" in v]
    if len(own) != 1 or (vias and vias[-1] != own[0]):
        faults.append(f"Via lines {vias}")
    return faults
