"""Request body limits, enforced before anything parses a body (pure ASGI middleware).

* Size: a body larger than ``max_body_bytes`` (default 1 MiB; ``max_upload_bytes`` plus 1 MiB for
  ``multipart/form-data`` uploads) is answered ``413`` -- from ``Content-Length`` before a byte is read, or as
  soon as a streamed body passes the limit.
* JSON: a JSON body is read whole (it is within the size limit) and scanned without parsing: nesting deeper than
  ``max_json_depth`` levels, or the tokens ``NaN`` / ``Infinity`` (not JSON, RFC 8259 section 6, but accepted by
  Python's parser), are answered ``422``.  Only then is the body handed on to the application.

>>> json_problem(b'{"a": [1, {"b": "[[[["}]}', max_depth=3)
>>> json_problem(b'[[[[1]]]]', max_depth=3)
'nested deeper than 3 levels'
>>> json_problem(b'{"x": NaN}', max_depth=3)
'NaN and Infinity are not JSON numbers (RFC 8259, 6)'
"""

from __future__ import annotations

import json
import re
from typing import Final

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET: Final = re.compile(rb"[\[\]{}]")
_NOT_NUMBER: Final = re.compile(rb"\b(?:NaN|Infinity)\b")
_OPEN: Final = frozenset(b"[{")
#: Room for the multipart framing around an uploaded file.
MULTIPART_OVERHEAD: Final = 1024 * 1024


def json_problem(body: bytes, *, max_depth: int) -> str | None:
    """What is wrong with a JSON body before it is parsed (too deep, NaN or Infinity), or None."""
    bare = _STRING.sub(b'""', body)
    if _NOT_NUMBER.search(bare):
        return "NaN and Infinity are not JSON numbers (RFC 8259, 6)"
    depth = 0
    for found in _BRACKET.finditer(bare):
        if found.group()[0] in _OPEN:
            depth += 1
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels"
        else:
            depth -= 1
    return None


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimits:
    """ASGI middleware refusing oversized bodies (413) and too deeply nested or non-standard JSON (422)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {key.lower(): value for key, value in scope["headers"]}
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        limit = self.max_body_bytes
        if content_type.startswith("multipart/form-data"):
            limit = self.max_upload_bytes + MULTIPART_OVERHEAD
        too_large = f"request body larger than {limit} bytes"
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > limit:
            await _answer(send, 413, "too_large", too_large)
            return
        if "json" in content_type:
            await self._json(scope, receive, send, limit, too_large)
            return
        await self._streamed(scope, receive, send, limit, too_large)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int, too_large: str) -> None:
        """Hand the body on as it arrives; once it passes ``limit`` stop it, and answer 413 in place of whatever the
        application makes of the interrupted body."""
        received = 0
        exceeded = False
        answered = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise HTTPException(413, too_large)
            return message

        async def guarded(message: Message) -> None:
            nonlocal answered
            if not exceeded:
                await send(message)
            elif not answered:
                answered = True
                await _answer(send, 413, "too_large", too_large)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not answered:
            await _answer(send, 413, "too_large", too_large)

    async def _json(self, scope: Scope, receive: Receive, send: Send, limit: int, too_large: str) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _answer(send, 413, "too_large", too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = json_problem(body, max_depth=self.max_json_depth)
        if problem is not None:
            await _answer(send, 422, "invalid_input", f"request body: {problem}")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
