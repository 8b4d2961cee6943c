"""Static files (CSS, JavaScript, the Vega and Swagger UI bundles), held in memory under versioned URLs.

Every asset's URL carries a hash of its content (``/static/site.css?v=1a2b3c``; the Vega bundle
is ``/static/vega-<hash>.js``), so browsers may cache them for a year: a new release changes the
URL. The Vega bundle is also kept gzip-compressed (it is about 900 kB, 250 kB compressed), and so is
Swagger UI's (``/docs``, from the ``swagger-ui-py`` package's files: no CDN).

Example:
    >>> assets = Assets()
    >>> assets.url("site.css").startswith("/static/site.css?v=")
    True
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from widgets.render import STATIC, vega_bundle

__all__ = ["SWAGGER_FILES", "Asset", "Assets"]


def _swagger_ui_folder() -> Path:
    """Swagger UI's own files, as the swagger-ui-py package ships them (found without importing it:
    the package's code is for other web frameworks)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed; reinstall btvstat-open")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


SWAGGER_UI = _swagger_ui_folder()
SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js")

_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    """One static file's bytes, content type, hash and pre-compressed bytes."""

    name: str
    body: bytes
    media_type: str
    digest: str
    gzipped: bytes | None = None


def _asset(name: str, body: bytes, *, compress: bool = False) -> Asset:
    media_type = _TYPES.get(Path(name).suffix, "application/octet-stream")
    digest = hashlib.sha256(body).hexdigest()[:12]
    return Asset(name, body, media_type, digest, gzip.compress(body, 6, mtime=0) if compress else None)


class Assets:
    """The files of ``widgets/static`` (top level only) plus the Vega bundle."""

    def __init__(self, folder: Path = STATIC) -> None:
        self.files: dict[str, Asset] = {}
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix in _TYPES:
                self.files[path.name] = _asset(path.name, path.read_bytes())
        code, digest = vega_bundle()
        self.vega_name = f"vega-{digest}.js"
        self.files[self.vega_name] = _asset(self.vega_name, code.encode(), compress=True)
        for name in SWAGGER_FILES:
            self.files[name] = _asset(name, (SWAGGER_UI / name).read_bytes(), compress=True)

    def url(self, name: str) -> str:
        """The versioned URL of a static file.

        Example:
            >>> Assets().url("vega")
            '/static/vega-3425bd951a44.js'
        """
        if name == "vega":
            return f"/static/{self.vega_name}"
        return f"/static/{name}?v={self.files[name].digest}"

    def get(self, name: str) -> Asset | None:
        """The asset called ``name`` or None."""
        return self.files.get(name)
