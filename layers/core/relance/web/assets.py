"""The web app's static files, served from our own origin under a content-hashed URL.

``/static/<hash>/<name>``: the hash is the first 12 hex digits of the file's SHA-256, so a
changed file has a new URL and every URL can be cached forever (``immutable``). The vendored
files (htmx, Bootstrap's CSS) are copied from npm by the Makefile into ``static/vendor``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    name: str
    digest: str
    body: bytes
    content_type: str

    @property
    def url(self) -> str:
        return f"/static/{self.digest}/{self.name}"


class StaticFiles:
    """Every file under ``root`` (flat names: ``app.css``, ``vendor/htmx.min.js`` → ``htmx.min.js``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.assets: dict[str, Asset] = {}
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix not in CONTENT_TYPES or path.name.startswith("."):
                continue
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:12]
            self.assets[path.name] = Asset(path.name, digest, body, CONTENT_TYPES[path.suffix])

    def url(self, name: str) -> str:
        """The hashed URL of ``name``; a missing file (assets not installed) fails loudly."""
        try:
            return self.assets[name].url
        except KeyError:
            raise LookupError(f"static file {name} is missing: run `make web-assets`") from None

    def find(self, digest: str, name: str) -> Asset | None:
        """The file at ``/static/<digest>/<name>`` if that is its current hash."""
        asset = self.assets.get(name)
        return asset if asset is not None and asset.digest == digest else None

    def total_bytes(self, names: tuple[str, ...]) -> int:
        return sum(len(self.assets[n].body) for n in names if n in self.assets)
