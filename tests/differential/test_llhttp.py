"""Differential test: berth's HTTP1 codec against llhttp (strict mode) on corpus.jsonl.

berth's verdicts come from the Swift test DifferentialExportTests (run with BERTH_DIFF_OUT set), or from the file
named by BERTH_DIFF_VERDICTS to skip the build. Any disagreement fails unless ALLOWLIST explains it.
"""
import json
import os
import subprocess
import tempfile

import llhttp
import pytest

import corpus

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# id -> why berth and llhttp differ on purpose. Every entry must still be a disagreement (stale entries fail).
ALLOWLIST = {
    "req-cl-dup-same": "RFC 9112 6.3 allows identical repeated Content-Length; berth accepts, llhttp refuses all duplicates",
    "req-cl-list-same": "same as req-cl-dup-same, as a comma list",
    "req-smuggle-te-x-then-chunked": "berth answers 501 for any coding besides a lone chunked; llhttp only checks chunked is last",
    "req-smuggle-te-gzip-chunked": "berth answers 501 for codings it cannot forward safely; llhttp accepts gzip, chunked",
    "req-smuggle-te-empty": "berth refuses a Transfer-Encoding without codings; llhttp ignores it",
    "req-smuggle-te-comma-chunked": "berth refuses an empty coding, forwarded as it came an origin may read it another way (HAProxy 422, nginx 501); llhttp skips it",
    "req-bad-target-fragment": "berth refuses '#' in a request target (fragments are never sent); llhttp accepts",
    "req-bad-double-space": "berth refuses an empty target between two spaces; llhttp skips extra spaces",
    "req-bad-version-20": "berth only speaks HTTP/1.0 and 1.1 (505); llhttp parses any digit pair",
    "req-bad-version-09": "berth only speaks HTTP/1.0 and 1.1 (505); llhttp parses any digit pair",
    "req-bad-no-version": "berth refuses HTTP/0.9 simple requests; llhttp accepts them",
    "req-bad-missing-host": "RFC 9112 3.2: HTTP/1.1 needs Host; llhttp does not check header semantics",
    "req-bad-two-hosts": "RFC 9112 3.2: exactly one Host; llhttp does not check",
    "req-bad-host-space": "berth validates Host as an authority; llhttp does not",
    "req-bad-asterisk-get": "berth allows '*' only with OPTIONS; llhttp does not check target forms",
    "req-bad-connect-origin": "berth requires authority-form for CONNECT; llhttp does not check target forms",
    "req-bad-connect-no-port": "berth requires a port in CONNECT targets; llhttp does not check",
    "req-bad-absolute-ftp": "berth only accepts http(s) absolute-form; llhttp does not check schemes",
    "req-bad-http10-te": "RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing; berth refuses, llhttp accepts",
    "req-bad-lowercase-method": "berth forwards any token method (methods are extensible); llhttp knows a fixed list",
    "req-bad-unknown-method": "berth forwards any token method (methods are extensible); llhttp knows a fixed list",
    "res-bad-te-chunked-twice": "RFC 9112 6.1 forbids chunked twice; berth refuses, llhttp accepts",
    "res-bad-reason-ctl": "berth refuses control characters in the reason phrase; llhttp accepts them",
    "res-bad-status-099": "berth requires a status of 100-999; llhttp accepts any three digits",
    "res-bad-version-20": "berth only speaks HTTP/1.0 and 1.1; llhttp parses any digit pair",
    "res-bad-leading-crlf": "berth skips empty lines only before requests (RFC 9112 2.2); llhttp also before responses",
}


def berth_verdicts():
    path = os.environ.get("BERTH_DIFF_VERDICTS")
    if not path:
        fd, path = tempfile.mkstemp(suffix=".jsonl")
        os.close(fd)
        env = dict(os.environ, BERTH_DIFF_OUT=path)
        subprocess.run(["swift", "test", "--filter", "HTTP1Tests.DifferentialExportTests"], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    with open(path) as f:
        return {row["id"]: row for row in map(json.loads, filter(None, f.read().splitlines()))}


class Collector:
    """Mixin gathering the fields compared with berth; pauses at the first message's end."""

    def setup(self):
        self.url = b""
        self.done = False

    def on_url(self, data):
        self.url += bytes(data)

    def on_message_complete(self):
        self.done = True
        self.pause()


class Req(Collector, llhttp.Request):
    pass


class Res(Collector, llhttp.Response):
    pass


def llhttp_verdict(kind, data):
    p = Req() if kind == "request" else Res()
    p.setup()
    try:
        n = p.execute(data)
        end = n if p.done else None
        if not p.done and p.message_needs_eof:
            # finish() in this binding raises SystemError; needing EOF already means "body runs until close".
            end = -1
    except Exception as e:  # llhttp raises a typed error per failure
        return {"accept": False, "error": type(e).__name__}
    if end is None:
        return {"accept": False, "error": "incomplete"}
    v = {"accept": True, "end": end}
    if kind == "request":
        v["method"] = p.method
        v["target"] = p.url.decode("latin-1")
    else:
        v["status"] = p.status
    return v


def differences(ours, theirs):
    if ours["accept"] != theirs["accept"]:
        return f"accept: berth={ours['accept']} ({ours.get('error')}) llhttp={theirs['accept']} ({theirs.get('error')})"
    if not ours["accept"]:
        return None
    for key in ("method", "target", "status", "end"):
        if key in theirs and ours.get(key) != theirs[key]:
            return f"{key}: berth={ours.get(key)!r} llhttp={theirs[key]!r}"
    return None


@pytest.fixture(scope="module")
def verdicts():
    return berth_verdicts()


def test_corpus_file_matches_its_generator():
    with open(corpus.CORPUS) as f:
        stored = [json.loads(line) for line in f if line.strip()]
    assert stored == corpus.build(), "run: python tests/differential/corpus.py"
    assert len(stored) >= 200


def test_berth_agrees_with_llhttp_or_the_allowlist_says_why(verdicts):
    rows = corpus.build()
    unexplained, stale = [], []
    for row in rows:
        ours = verdicts[row["id"]]
        theirs = llhttp_verdict(row["kind"], bytes.fromhex(row["hex"]))
        diff = differences(ours, theirs)
        if diff and row["id"] not in ALLOWLIST:
            unexplained.append(f"{row['id']}: {diff}")
        if not diff and row["id"] in ALLOWLIST:
            stale.append(row["id"])
    assert not unexplained, "\n".join(unexplained)
    assert not stale, f"allowlisted but agreeing now: {stale}"
