"""Security headers on every response, as a pure ASGI middleware (no request body buffering, no extra task).

The Content-Security-Policy fits what the pages use: one stylesheet and one script from ``/web/static``, no inline
script, no inline style (bars are drawn as SVG shapes), images and charts inline as SVG, ``fetch`` to the same site,
forms posting to the same site, and no framing by anyone.  The interactive API documentation (Swagger UI under
``/api/v1/docs``) loads its script and style from the jsDelivr CDN and starts with an inline script, so that one
page gets a policy of its own.

>>> [name for name, _ in HEADERS][:4]
['Content-Security-Policy', 'X-Frame-Options', 'X-Content-Type-Options', 'Referrer-Policy']
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The policy of every page and answer (the web interface needs nothing more).
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: The policy of the Swagger UI page (FastAPI serves it with an inline start script and CDN assets).
DOCS_CSP: Final = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS: Final = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)


class SecurityHeaders:
    """Adds :data:`HEADERS` to each HTTP response (a header the route set itself is kept)."""

    def __init__(self, app: ASGIApp, *, docs_path: str = "/api/v1/docs") -> None:
        self.app = app
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path == self.docs_path else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    if name not in headers:
                        headers[name] = csp if name == "Content-Security-Policy" else value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def content_disposition(file_name: str, *, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` value for any file name (RFC 6266:2011, 4.1 and 4.3, with the ``filename*``
    parameter of RFC 8187:2017, 3.2): an ASCII ``filename`` fallback for old clients and the exact name, UTF-8 and
    percent-encoded, in ``filename*``.  Path parts, quotes, backslashes and control characters never reach the header.

    >>> content_disposition("证书 1.pdf")
    'attachment; filename="__ 1.pdf"; filename*=UTF-8\\'\\'%E8%AF%81%E4%B9%A6%201.pdf'
    >>> content_disposition('a"b\\r\\nX-Evil: 1.csv')
    'attachment; filename="a_b__X-Evil_ 1.csv"; filename*=UTF-8\\'\\'a_b__X-Evil%3A%201.csv'
    """
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join("_" if (ord(c) < 0x20 or ord(c) == 0x7F or c == '"') else c for c in base).strip() or "download"
    fallback = "".join(c if c.isascii() and c not in ";:" else "_" for c in cleaned)
    encoded = quote(cleaned, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
