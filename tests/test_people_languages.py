"""The staff pages in the chosen language and the city's look (issue 26).

Sign-in, updates and approvals answer under ``/{locale}/`` like the public pages (the selector's
cookie sends a visitor there), with ``lang``/``dir``, their links, forms and redirects in that
locale, the messages made in Python (form errors, notices, refusals) translated, and the
catalog's theme (stylesheet with its colours and fonts, logo) as on the public pages.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from people_site import APPROVER, FILES, PASSWORD, UPDATER, Site, csrf_of, running_site

LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
THEMED = {
    "catalog.yaml": textwrap.dedent(FILES["catalog.yaml"]).rstrip()
    + """
locales: [en, es, fr, ar]
theme:
  logo: {file: logo.svg, alt: City home}
  colors: {primary: "#16466f", on_primary: "#ffffff"}
""",
    "logo.svg": LOGO,
}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with running_site(tmp_path, extra=THEMED) as made:
        yield made


def _sign_in(site: Site, locale: str, email: str, password: str = PASSWORD) -> object:
    client = site.client
    form = client.get(f"/{locale}/login")
    data = {"email": email, "password": password, "csrf": csrf_of(form.text), "next": "/updates"}
    return client.post(f"/{locale}/login", data=data, follow_redirects=False)


def test_sign_in_in_the_chosen_language_with_the_theme(site: Site) -> None:
    page = site.client.get("/es/login")
    assert page.status_code == 200
    assert '<html lang="es" dir="ltr"' in page.text and "<h1>Iniciar sesión</h1>" in page.text
    assert 'action="/es/login"' in page.text  # the form posts back in Spanish
    assert re.search(r'<link rel="stylesheet" href="/theme/theme-[0-9a-f]+\.css">', page.text)
    assert (
        '<a class="site-logo" href="/es/"><img src="/theme/logo-' in page.text
        and 'alt="City home"' in page.text
    )
    assert 'class="language-selector"' in page.text and 'hreflang="ar"' in page.text
    assert "font-src 'self'" in page.headers["content-security-policy"]  # the theme's fonts load
    arabic = site.client.get("/ar/login").text
    assert '<html lang="ar" dir="rtl"' in arabic
    wrong = _sign_in(site, "fr", UPDATER, "not the password")
    assert wrong.status_code == 401  # type: ignore[attr-defined]
    assert '<html lang="fr"' in wrong.text  # type: ignore[attr-defined]
    assert "Le courriel, le mot de passe ou le code à usage unique est incorrect." in wrong.text  # type: ignore[attr-defined]


def test_the_chosen_locale_carries_through_redirects_and_notices(site: Site) -> None:
    signed = _sign_in(site, "es", UPDATER)
    assert signed.status_code == 303 and signed.headers["location"] == "/es/updates"  # type: ignore[attr-defined]
    updates = site.client.get("/es/updates")
    assert '<html lang="es"' in updates.text and "<h1>Actualizaciones</h1>" in updates.text
    assert 'href="/es/updates/sheet.xlsx"' not in updates.text  # a download is no page: it stays
    assert 'action="/es/logout"' in updates.text
    noticed = site.client.get("/es/updates?notice=values&n=2")
    assert '<p class="notice" role="status">Se enviaron 2 valores para aprobación.</p>' in noticed.text
    made_up = site.client.get("/es/updates?notice=%3Cb%3EYou+won%3C/b%3E")
    assert 'class="notice"' not in made_up.text and "won" not in made_up.text  # no text from the address
    # A chosen locale (the selector's cookie) sends an unprefixed staff page to its language.
    site.client.cookies.set("locale", "fr")
    chosen = site.client.get("/updates", follow_redirects=False)
    assert chosen.status_code == 302 and chosen.headers["location"] == "/fr/updates"


def test_refusals_and_form_errors_made_in_python_are_translated(site: Site) -> None:
    _sign_in(site, "fr", UPDATER)
    page = site.client.get("/fr/updates").text
    token = csrf_of(page)
    refused = site.client.post(
        "/fr/updates/value",
        data={"item": "playground-inspections|2020-02-01", "csrf": token, "value": "3"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert (
        "Vous ne saisissez pas de valeurs pour Parks." in refused.text and '<html lang="fr"' in refused.text
    )
    bad = site.client.post(
        "/fr/updates/value",
        data={"item": "sidewalk-repairs|2020-02-01", "csrf": token, "value": "douze"},
        follow_redirects=False,
    )
    assert bad.status_code == 400 and "n’est pas un nombre" in bad.text


def test_an_approver_locks_in_arabic(site: Site) -> None:
    _sign_in(site, "ar", APPROVER)
    page = site.client.get("/ar/approvals")
    assert page.status_code == 200 and '<html lang="ar" dir="rtl"' in page.text
    token = csrf_of(page.text)
    meeting = "2020-03-25-public-works"
    expired = site.client.post("/ar/approvals/lock", data={"meeting": meeting, "csrf": "stale"})
    assert expired.status_code == 403 and "انتهت صلاحية النموذج" in expired.text
    missing = site.client.post("/ar/approvals/lock", data={"meeting": "no-such", "csrf": token})
    assert missing.status_code == 400 and "لا يوجد اجتماع" in missing.text
    locked = site.client.post(
        "/ar/approvals/lock", data={"meeting": meeting, "csrf": token}, follow_redirects=False
    )
    assert locked.status_code == 303 and locked.headers["location"].startswith("/ar/approvals?notice=locked")
