"""The browser's way to `daydream-rtc serve`: routes on ComfyUI's own server that relay to it.

The ComfyUI extension never talks to serve directly: serve listens on loopback only, and a
ComfyUI opened from another machine could not reach it, nor call it cross-origin. It calls
``/rtc/api/<path>`` on ComfyUI's server instead (``api.fetchApi`` adds ComfyUI's ``/api``
prefix; ComfyUI serves its routes under both), and this module relays GET, POST and PATCH to
serve's REST API, answering with serve's status, body and frame headers.

Only serve's REST routes that the browser needs are relayed (never ``/frames``, never an
arbitrary URL: the path is checked against a fixed list), bodies are bounded, and serve's
access token, when it has one, is added here, so it never reaches the browser.

Use::

    from aiohttp import web
    from .relay import add_relay_routes

    add_relay_routes(PromptServer.instance.routes, lambda: manager.base_url())

``base_url`` returns serve's base URL (``http://127.0.0.1:8895``), or None while it is not
running (the relay then answers 503 ``{"detail": "the RTC server is not running"}``).
"""

from __future__ import annotations

import re
from typing import Callable, Optional

import aiohttp
from aiohttp import web

PREFIX = "/rtc/api"
MAX_BODY = 1024 * 1024
TIMEOUT_S = 10.0

# serve's routes the browser uses, optionally under /streams/{name}/
_ROUTES = (
    r"healthz|status|start|stop|config/?|runtime-config|pipeline|streams"
    r"|whep/(status|connect|disconnect|frame)|preview/input\.jpg"
)
_ALLOWED = re.compile(rf"^(streams/[A-Za-z0-9_-]{{1,64}}/)?({_ROUTES})$")
# answer headers worth passing on (the frame metadata of /whep/frame?format=jpeg)
_PASS_HEADERS = (
    "Content-Type",
    "Retry-After",
    "X-Frame-Width",
    "X-Frame-Height",
    "X-Frame-Timestamp",
    "X-Has-Frame",
)


def relayed_path(path: str) -> bool:
    """Whether ``path`` (after the prefix, no leading slash) is one the relay passes on."""
    return bool(_ALLOWED.match(path))


def add_relay_routes(
    routes: web.RouteTableDef,
    base_url: Callable[[], Optional[str]],
    token: Callable[[], Optional[str]] = lambda: None,
    prefix: str = PREFIX,
) -> None:
    """Register ``{prefix}/{path}`` for GET, POST and PATCH on ``routes``."""

    async def relay(request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if not relayed_path(path):
            return web.json_response({"detail": f"not relayed: /{path}"}, status=404)
        base = base_url()
        if not base:
            return web.json_response({"detail": "the RTC server is not running"}, status=503)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"detail": "request body over 1 MiB"}, status=413)
        body = await request.read() if request.can_read_body else None
        if body is not None and len(body) > MAX_BODY:
            return web.json_response({"detail": "request body over 1 MiB"}, status=413)
        headers = {}
        if request.headers.get("Content-Type"):
            headers["Content-Type"] = request.headers["Content-Type"]
        secret = token()
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        url = f"{base.rstrip('/')}/{path}"
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http:
                async with http.request(
                    request.method,
                    url,
                    params=request.query,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                ) as upstream:
                    data = await upstream.read()
                    out = {h: upstream.headers[h] for h in _PASS_HEADERS if h in upstream.headers}
        except (aiohttp.ClientError, TimeoutError) as e:
            # the base URL only: a query could carry anything
            detail = f"the RTC server at {base} did not answer: {type(e).__name__}"
            return web.json_response({"detail": detail}, status=502)
        out.setdefault("Content-Type", "application/octet-stream")
        out["Cache-Control"] = "no-store"
        return web.Response(status=upstream.status, body=data, headers=out)

    for method in ("GET", "POST", "PATCH"):
        routes.route(method, prefix + "/{path:.*}")(relay)
