"""Security rules of the web app: response headers, CSRF tokens, where a sign-in may return to.

CSRF: every cookie is ``SameSite=Lax`` and every state-changing request must carry a token
(form field ``csrf`` or header ``X-CSRF-Token``, which htmx sends from ``hx-headers`` on
``<body>``). The token is the signed-in user's subject signed with the app's secret key
(itsdangerous, timestamped): another site can neither read nor forge it, and it is useless
for anyone else's session.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_MAX_AGE = 12 * 3600  # a page left open longer asks for a reload
_CSRF_SALT = "relance-web-csrf"


def csrf_token(secret: str, subject: str) -> str:
    """The token the pages of ``subject`` (the user's principal id) carry in their forms."""
    return str(URLSafeTimedSerializer(secret, salt=_CSRF_SALT).dumps(subject))


def csrf_valid(secret: str, subject: str, token: str | None, max_age: int = CSRF_MAX_AGE) -> bool:
    """Whether ``token`` was made by this app for ``subject`` less than ``max_age`` seconds ago."""
    if not token:
        return False
    try:
        signed = URLSafeTimedSerializer(secret, salt=_CSRF_SALT).loads(token, max_age=max_age)
    except BadSignature:  # also SignatureExpired, its subclass
        return False
    return bool(signed == subject)


def same_origin(origin: str | None, base_url: str) -> bool:
    """A browser's ``Origin`` header, when it sends one, must be the app's own origin."""
    return origin is None or origin.rstrip("/") == base_url.rstrip("/")


def local_path(target: str | None, default: str = "/") -> str:
    """Where to go after signing in: a path of this app only (never ``//host`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def content_security_policy(form_targets: tuple[str, ...] = (), connect_targets: tuple[str, ...] = ()) -> str:
    """Scripts and styles from our origin only; no inline script or style, no framing. Scripts may
    connect to ``connect_targets`` besides our origin (the documents bucket, for a note's files)."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src " + " ".join(("'self'", *connect_targets)),
            "form-action " + " ".join(("'self'", *form_targets)),
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


def page_headers(form_targets: tuple[str, ...] = (), connect_targets: tuple[str, ...] = ()) -> dict[str, str]:
    """Headers of every HTML answer: strict CSP, no framing, no caching of data pages."""
    return {
        "Content-Security-Policy": content_security_policy(form_targets, connect_targets),
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store, max-age=0",
        "Vary": "Cookie, HX-Request",
    }


STATIC_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}
