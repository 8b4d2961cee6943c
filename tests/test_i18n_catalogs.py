"""The message catalogs hold every message of the source tree, translated (issue 26).

Messages are extracted with Babel from the Python sources and the Jinja templates, with the
project's own extraction configuration (``btvstat_open/i18n/babel.cfg``); every shipped catalog
(``locales/{es,fr,ar}/LC_MESSAGES/messages.po``) must hold each one, translated in every plural
form, none fuzzy, with the same ``%(name)s`` placeholders; the committed template
(``messages.pot``) must be current, so the pseudo-locale covers every message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from btvstat_open.i18n import PSEUDO_LOCALE, gettext, ngettext, shipped_locales, translations, use_locale
from btvstat_open.i18n.catalogs import LOCALES_DIR
from btvstat_open.i18n.pseudo import OPEN, SHUT, pseudo

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "btvstat_open" / "i18n" / "babel.cfg"
SHIPPED = ("es", "fr", "ar")
PLACEHOLDER = re.compile(r"%\(([a-z_]+)\)[sdr]")

MessageId = str | tuple[str, ...]


def _extracted() -> set[MessageId]:
    """Every message Babel finds in the source tree (Python with ``_``, ``ngettext`` and ``lazy``)."""
    with CONFIG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy": None}
    found: set[MessageId] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return {m for m in found if m}


@pytest.fixture(scope="module")
def extracted() -> set[MessageId]:
    return _extracted()


def _catalog_ids(path: Path) -> dict[MessageId, object]:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {(m.id if isinstance(m.id, str) else tuple(m.id)): m for m in catalog if m.id}


def test_extraction_finds_templates_python_and_charts(extracted: set[MessageId]) -> None:
    """The extraction sees each kind of source: page templates, sign-in templates, the portal's
    dataset page, Python labels and chart text."""
    for message in (
        "Skip to main content",  # widgets/templates/base.html
        "One-time code (if your account has one)",  # people/templates/login.html
        "A sample of rows",  # portal/templates/dataset.html
        "On track",  # catalog/status.py
        "Line chart of %(title)s%(unit)s by %(period)s",  # widgets/charts.py
        ("%(num)d KPI", "%(num)d KPIs"),  # a plural, from a template
    ):
        assert message in extracted, message
    assert len(extracted) > 400


def test_the_committed_template_is_current(extracted: set[MessageId]) -> None:
    assert set(_catalog_ids(LOCALES_DIR / "messages.pot")) == extracted


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_catalog_holds_every_message_translated(locale: str, extracted: set[MessageId]) -> None:
    catalog = _catalog_ids(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po")
    missing = sorted(map(str, extracted - set(catalog)))
    assert missing == [], f"{locale}: {len(missing)} messages missing, e.g. {missing[:5]}"
    problems = []
    for key, message in catalog.items():
        if key not in extracted:
            problems.append(f"obsolete: {key!r}")
            continue
        forms = [message.string] if isinstance(message.string, str) else list(message.string)  # type: ignore[attr-defined]
        if message.fuzzy:  # type: ignore[attr-defined]
            problems.append(f"fuzzy: {key!r}")
        if not all(forms):
            problems.append(f"untranslated: {key!r}")
        wanted = set(PLACEHOLDER.findall(" ".join(key if isinstance(key, tuple) else (key,))))
        for form in forms:
            if set(PLACEHOLDER.findall(form)) != wanted:
                problems.append(f"placeholders differ: {key!r} -> {form!r}")
            if form.count("%") - 2 * form.count("%%") != len(PLACEHOLDER.findall(form)):
                problems.append(f"stray %: {form!r}")
    assert problems == [], problems[:10]


def test_shipped_locales_and_their_directions() -> None:
    assert shipped_locales() == ["en", "ar", "es", "fr"]
    for locale, word in (("es", "Objetivo"), ("fr", "Cible"), ("ar", "الهدف"), ("en", "Target")):
        with use_locale(locale):
            assert gettext("Target") == word
    with use_locale("fr"):
        assert ngettext("%(num)d KPI", "%(num)d KPIs", 1) % {"num": 1} == "1 indicateur"
    with use_locale("ar"):  # six plural forms
        assert ngettext("%(num)d KPI", "%(num)d KPIs", 2) % {"num": 2} == "مؤشران (2)"


def test_the_pseudo_locale_marks_every_message(extracted: set[MessageId]) -> None:
    pseudo_catalog = translations(PSEUDO_LOCALE)
    for message in extracted:
        single = message if isinstance(message, str) else message[0]
        text = (
            pseudo_catalog.ugettext(single)
            if isinstance(message, str)
            else pseudo_catalog.ungettext(message[0], message[1], 1)
        )
        assert text.startswith(OPEN) and text.endswith(SHUT), message
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(single))
    assert pseudo("Sign in as %(name)s <b>now</b>").startswith("⟦Šîĝñ îñ åš %(name)s <b>ñöŵ</b>")
