"""Spellings of `Authorization: Bearer TOKEN`: the scheme is case-insensitive and may be followed by more than one
space (RFC 9110 11.1 and 11.4, RFC 6750 2.1), so `bearer TOKEN` from a correct client is taken; two Authorization
fields (a proxy or a client adding its own) are refused whichever comes first, never judged by the first alone."""
import pytest

from hostile_wire import exchange, status_of

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def guarded(berth, tmp_path):
    path = tmp_path / "admin-token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return berth("--admin-token-file", str(path))


def ask(b, *fields):
    head = "GET /stats?limit=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{f}\r\n" for f in fields) + "Connection: close\r\n\r\n"
    return status_of(exchange(b.admin, head.encode()))


@pytest.mark.parametrize("field", [
    f"Authorization: Bearer {TOKEN}",
    f"Authorization: bearer {TOKEN}",
    f"Authorization: BEARER {TOKEN}",
    f"Authorization: Bearer   {TOKEN}",
    f"Authorization: Bearer {TOKEN} ",
])
def test_a_right_token_in_any_lawful_spelling_is_taken(guarded, field):
    assert ask(guarded, field) == 200


@pytest.mark.parametrize("fields", [
    ("Authorization: Bearer",),
    ("Authorization: Bearer ",),
    (f"Authorization: Bearer{TOKEN}",),
    (f"Authorization: Basic {TOKEN}",),
    (f"Authorization: Bearer {TOKEN[:-1]}",),
    (f"Authorization: Bearer {TOKEN}x",),
    (f"Authorization: Bearer {TOKEN} {TOKEN}",),
    (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer wrong"),
    ("Authorization: Bearer wrong", f"Authorization: Bearer {TOKEN}"),
    (f"Authorization: Bearer {TOKEN}", f"Authorization: Bearer {TOKEN}"),
])
def test_a_wrong_missing_or_repeated_token_is_401(guarded, fields):
    assert ask(guarded, *fields) == 401
