"""The ``_headers`` file of a static site: the security headers the server sends with each address,
for hosts that read that file (Netlify, Cloudflare Pages and others with the same format).

A static host sends only what it is configured to send, so the server's Content-Security-Policy,
``X-Frame-Options`` (embeds framable by ``embed.allowed_origins``, every other page not),
``X-Content-Type-Options``, ``Referrer-Policy``, ``Cross-Origin-Opener-Policy`` and CORS header
are written beside the files, taken from the server's own answers. Hosts apply *every* rule whose
pattern matches an address (a header in two rules gets both values), so no two rules here match
the same address: a folder whose addresses all get the same headers is one rule (``/embed/*``);
a folder with several kinds of answer (``/kpi/``: pages, images, downloads) has one rule per
address. An answer without a file extension (``/api/kpis``) also gets its ``Content-Type``.

Example:
    >>> page = {"x-frame-options": "DENY"}
    >>> print(headers_file({"/kpi/a": (page, True), "/kpi/a.svg": ({"x-frame-options": "SAMEORIGIN"}, False),
    ...                     "/embed/a": ({}, True), "/embed/b": ({}, True), "/checks": (page, True)}), end="")
    # The server's security headers for each address (see docs/static-site.md, Hosting).
    /checks
      X-Frame-Options: DENY
    /checks/*
      X-Frame-Options: DENY
    /embed/*
    /kpi/a
      X-Frame-Options: DENY
    /kpi/a.svg
      X-Frame-Options: SAMEORIGIN
    /kpi/a/
      X-Frame-Options: DENY
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence

__all__ = ["HEADERS_FILE", "SECURITY_HEADERS", "headers_file", "security_of"]

HEADERS_FILE = "_headers"
#: the response headers a static host must be told to send, in the order they are written
SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "cross-origin-opener-policy",
    "access-control-allow-origin",
)
_NAMES = {
    "content-security-policy": "Content-Security-Policy",
    "x-content-type-options": "X-Content-Type-Options",
    "referrer-policy": "Referrer-Policy",
    "x-frame-options": "X-Frame-Options",
    "cross-origin-opener-policy": "Cross-Origin-Opener-Policy",
    "access-control-allow-origin": "Access-Control-Allow-Origin",
    "content-type": "Content-Type",
}


def security_of(path: str, headers: Mapping[str, str]) -> dict[str, str]:
    """The headers of an answer a static host must be told to send (lower-case names).

    Example:
        >>> answer = {"Content-Type": "application/json", "X-Frame-Options": "DENY", "ETag": "x"}
        >>> security_of("/api/kpis", answer)
        {'x-frame-options': 'DENY', 'content-type': 'application/json'}
        >>> security_of("/kpi/a.csv", {"Content-Type": "text/csv"})
        {}
    """
    lower = {name.lower(): value for name, value in headers.items()}
    found = {name: lower[name] for name in SECURITY_HEADERS if name in lower}
    media = lower.get("content-type", "text/html")  # a page is an index.html: its type is known
    if "." not in posixpath.basename(path) and not path.endswith("/") and not media.startswith("text/html"):
        found["content-type"] = media
    return found


def _folder(path: str, page: bool, prefixes: Sequence[str]) -> str:
    """The folder a rule may cover with a splat (``/kpi/``, ``/es/kpi/``): an address's first
    segment after its locale's prefix; a page's own when it is one segment (``/departments`` is
    served at ``/departments/``); "" for the other addresses at the top (a rule each)."""
    prefix = next((p for p in prefixes if p and path.startswith(p + "/")), "")
    parts = path[len(prefix) :].strip("/").split("/")
    if len(parts) < 2 and not (page and parts[0]):
        return ""
    return f"{prefix}/{parts[0]}/"


def headers_file(answers: Mapping[str, tuple[Mapping[str, str], bool]], prefixes: Sequence[str] = ()) -> str:
    """The ``_headers`` file for these addresses: each with its headers (:func:`security_of`) and
    whether it is a page (a folder's ``index.html``, also asked for with a trailing slash);
    ``prefixes`` are the locales' (``/es``)."""
    folders: dict[str, set[tuple[tuple[str, str], ...]]] = {}
    for path, (headers, page) in answers.items():
        folders.setdefault(_folder(path, page, prefixes), set()).add(tuple(sorted(headers.items())))
    uniform = {folder for folder, kinds in folders.items() if folder and len(kinds) == 1}
    rules: dict[str, Mapping[str, str]] = {}
    for path, (headers, page) in sorted(answers.items()):
        folder = _folder(path, page, prefixes)
        if folder in uniform:
            rules[folder + "*"] = headers
            if path == folder.rstrip("/"):  # the folder's own page, asked for without its slash
                rules[path] = headers
            continue
        rules[path] = headers
        if page and not path.endswith("/"):
            rules[path + "/"] = headers
    lines = ["# The server's security headers for each address (see docs/static-site.md, Hosting)."]
    for pattern, headers in sorted(rules.items()):
        lines.append(pattern)
        lines.extend(f"  {_NAMES[name]}: {headers[name]}" for name in _NAMES if name in headers)
    return "\n".join(lines) + "\n"
