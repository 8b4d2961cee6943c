"""Sign-in with local accounts, sessions, CSRF and throttling, tried as an attacker would."""

from __future__ import annotations

from pathlib import Path

import httpx
from people_site import APPROVER, PASSWORD, UPDATER, Site, csrf_of, sign_in

from btvstat_open.people.context import COOKIE


def _cookie_header(response: httpx.Response) -> str:
    return next(v for v in response.headers.get_list("set-cookie") if v.startswith(COOKIE))


def test_sign_in_sets_a_flagged_session_cookie_and_rotates_it(people: Site) -> None:
    client = people.client
    first = sign_in(client, UPDATER)
    assert first.status_code == 303 and first.headers["location"] == "/updates"
    header = _cookie_header(first).lower()
    assert "httponly" in header and "secure" in header and "samesite=lax" in header and "path=/" in header
    old = client.cookies[COOKIE]
    again = sign_in(client, UPDATER)
    assert again.status_code == 303
    assert client.cookies[COOKIE] != old  # a new session id at every sign-in
    stale = people.new_client()
    stale.cookies.set(COOKIE, old)
    assert stale.get("/updates", follow_redirects=False).status_code == 303  # the old id is gone


def test_unknown_account_and_wrong_password_get_the_same_answer(people: Site) -> None:
    unknown = sign_in(people.new_client(), "nobody@example.gov")
    wrong = sign_in(people.new_client(), UPDATER, "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda text: text.replace("nobody@example.gov", "X").replace(UPDATER, "X")  # noqa: E731
    body = lambda r: strip(r.text.split('name="csrf" value="')[0])  # noqa: E731
    assert body(unknown) == body(wrong)
    assert COOKIE not in unknown.cookies and COOKIE not in wrong.cookies


def test_sign_in_without_its_csrf_token_is_refused(people: Site) -> None:
    client = people.new_client()
    client.get("/login")
    data = {"email": UPDATER, "password": PASSWORD, "csrf": "forged", "next": "/updates"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 400 and COOKIE not in client.cookies


def test_throttling_holds_even_with_the_right_password(people: Site) -> None:
    client = people.new_client()
    for _ in range(5):
        assert sign_in(client, UPDATER, "wrong password guess").status_code == 401
    assert sign_in(client, UPDATER).status_code == 429  # refused without checking
    # another account from the same address still gets its tries
    assert sign_in(people.new_client(), APPROVER).status_code == 303


def test_internal_pages_need_a_session_and_are_never_cached(people: Site) -> None:
    client = people.new_client()
    for path in ("/updates", "/approvals", "/audit", "/audit.csv"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    sign_in(client, APPROVER)
    for path in ("/updates", "/approvals", "/audit", "/audit.csv", "/login"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store, private"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_logout_ends_the_session_and_needs_the_csrf_token(people: Site) -> None:
    client = people.new_client()
    sign_in(client, UPDATER)
    cookie = client.cookies[COOKIE]
    page = client.get("/updates")
    forged = client.post("/logout", data={"csrf": "nope"}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/updates", follow_redirects=False).status_code == 200
    done = client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code == 303
    replay = people.new_client()
    replay.cookies.set(COOKIE, cookie)
    assert replay.get("/updates", follow_redirects=False).status_code == 303


def test_updater_cannot_reach_approver_pages(people: Site) -> None:
    client = people.new_client()
    sign_in(client, UPDATER)
    for path in ("/approvals", "/audit", "/audit.csv"):
        assert client.get(path).status_code == 403


def test_idle_and_absolute_timeouts_end_the_session(people: Site) -> None:
    from datetime import timedelta

    client = people.new_client()
    sign_in(client, UPDATER)
    assert client.get("/updates", follow_redirects=False).status_code == 200
    sessions = people.client.app.state.people.sessions  # type: ignore[attr-defined]
    with people.store.transaction() as con:  # 31 minutes without a request (idle limit: 30)
        con.execute("UPDATE btvstat_sessions SET seen_at = seen_at - ?", [timedelta(minutes=31)])
    sessions._cache.clear()  # the time that passed is longer than the few seconds a session is cached
    assert client.get("/updates", follow_redirects=False).status_code == 303
    sign_in(client, UPDATER)
    with people.store.transaction() as con:  # signed in 11 hours ago (limit: 10), active a minute ago
        con.execute(
            "UPDATE btvstat_sessions SET created_at = created_at - ?, seen_at = now() - INTERVAL 1 MINUTE",
            [timedelta(hours=11)],
        )
    sessions._cache.clear()
    assert client.get("/updates", follow_redirects=False).status_code == 303
    with people.store.transaction() as con:
        assert con.execute("SELECT count(*) FROM btvstat_sessions").fetchone() == (0,)  # ended, not kept


def test_a_forged_or_stale_identity_provider_answer_signs_nobody_in(tmp_path: Path) -> None:
    from people_site import make_site

    from btvstat_open.web.settings import Settings

    settings = Settings(
        oidc_issuer="http://127.0.0.1:9/never-asked",
        oidc_client_id="c",
        oidc_client_secret="not-a-secret",
        warm_up=False,
    )
    site = make_site(tmp_path, settings)
    client = site.new_client()
    assert "Sign in with single sign-on" in client.get("/login").text
    for query in ("?state=x&code=y", "?error=access_denied", ""):
        answer = client.get("/auth/callback" + query, follow_redirects=False)
        assert answer.status_code == 401 and COOKIE not in client.cookies
    down = client.get("/login/sso", follow_redirects=False)  # the provider does not answer
    assert down.status_code == 502 and "did not answer" in down.text
    approver = site.new_client()
    sign_in(approver, APPROVER)
    assert approver.get("/audit.csv").text.count("(identity provider),sign_in_failed") == 3
    site.store.close()
