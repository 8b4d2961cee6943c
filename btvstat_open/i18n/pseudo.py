"""The pseudo-locale ``en-XA``: every source message accented, lengthened by a third and bracketed,
placeholders and markup left as they are. Text on a page in ``en-XA`` that is not bracketed escaped
translation.

Example:
    >>> pseudo("Target: %(value)s")
    '⟦Ţåŕĝéţ: %(value)s ·····⟧'
"""

from __future__ import annotations

import io
import re
from functools import lru_cache

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from btvstat_open.i18n.catalogs import LOCALES_DIR

__all__ = ["OPEN", "SHUT", "pseudo", "pseudo_translations"]

OPEN, SHUT = "⟦", "⟧"
_ACCENTS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "åƀçđéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÅƁÇĐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
)
# Left as they are: %(name)s and %% placeholders, {name} fields and HTML tags or entities.
_KEEP = re.compile(r"%\([a-z_]+\)[sdr]|%%|%[sd]|\{[a-z_]*\}|<[^>]*>|&[a-z#0-9]+;")


def pseudo(message: str) -> str:
    """``message`` in the pseudo-locale."""
    parts, end = [], 0
    for match in _KEEP.finditer(message):
        parts.append(message[end : match.start()].translate(_ACCENTS))
        parts.append(match.group())
        end = match.end()
    parts.append(message[end:].translate(_ACCENTS))
    padding = "·" * max(1, len(message) // 3)
    return f"{OPEN}{''.join(parts)} {padding}{SHUT}"


@lru_cache(maxsize=1)
def pseudo_translations() -> Translations:
    """Every message of the template (``messages.pot``) in the pseudo-locale, compiled in memory."""
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    catalog = Catalog(locale="en")
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            catalog.add(message.id, tuple(pseudo(m) for m in message.id), context=message.context)
        else:
            catalog.add(message.id, pseudo(str(message.id)), context=message.context)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain="messages")
