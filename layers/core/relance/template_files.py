"""Where the Jinja2 templates are: the emails', the portal's and the web app's."""

from __future__ import annotations

from pathlib import Path


def templates_dir(kind: str = "emails") -> Path:
    """``/opt/<kind>`` in Lambda (the templates layer), else the repository's ``templates/<kind>``."""
    layer = Path("/opt") / kind
    return layer if layer.is_dir() else Path(__file__).resolve().parents[3] / "templates" / kind
