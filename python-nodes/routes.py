"""The pack's routes on ComfyUI's own server (spec §9.9): /rtc/control drives the manager,
/rtc/credentials stores the Daydream URL and key (the key: 0600 file, never echoed)."""

import asyncio
import logging

from aiohttp import web

from . import settings
from .manager import MANAGER, ManagerError

log = logging.getLogger("daydream-rtc")
ACTIONS = ("status", "start", "stop", "restart")


async def read_body(request):
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def parse_target(body):
    """(host or None, port or None) from the body; "settings" overrides the top level."""
    merged = dict(body)
    if isinstance(body.get("settings"), dict):
        merged.update({k: v for k, v in body["settings"].items() if k in ("host", "port")})
    host = merged.get("host")
    host = host.strip() or None if isinstance(host, str) else None
    port = merged.get("port")
    if isinstance(port, bool):
        port = None
    elif isinstance(port, str) and port.strip().isdigit():
        port = int(port.strip())
    elif not isinstance(port, int):
        port = None
    return host, port


async def blocking(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


async def get_control(request):
    return web.json_response({"success": True, "status": MANAGER.status()})


async def post_control(request):
    body = await read_body(request)
    action = str(body.get("action") or "status").strip().lower()
    if action not in ACTIONS:
        return web.json_response(
            {"success": False, "error": f"Invalid action '{action}'"}, status=400
        )
    host, port = parse_target(body)
    try:
        success = True
        if action == "start":
            await blocking(MANAGER.ensure_running, host, port)
        elif action == "stop":
            success = await blocking(MANAGER.stop)
        elif action == "restart":
            await blocking(MANAGER.restart, host, port)
    except (ManagerError, OSError) as exc:
        return web.json_response({"success": False, "error": str(exc)}, status=500)
    status = MANAGER.status()
    if action == "start":
        success = status["running"]
    return web.json_response({"success": success, "status": status})


def credentials_view():
    api_url, key, sources = settings.credentials()
    return {"api_url": api_url, "has_api_key": bool(key), "sources": sources}


async def get_credentials(request):
    return web.json_response({"success": True, "credentials": credentials_view()})


async def post_credentials(request):
    body = await read_body(request)
    for field in ("api_url", "api_key"):
        if field in body and not isinstance(body[field], str):
            return web.json_response(
                {"success": False, "error": f"{field} must be a string"}, status=400
            )
    old_url = settings.credentials()[0]
    try:
        if "api_url" in body:
            url = settings.normalise_url(body["api_url"]) or settings.DEFAULT_API_URL
            settings.save_settings(api_url=url)
        if "api_key" in body:
            settings.save_key(body["api_key"])
    except OSError as exc:
        log.error("credentials not saved: %s", exc.strerror)
        return web.json_response({"success": False, "error": "Persistence failed"}, status=500)
    await blocking(apply_credentials, old_url)
    return web.json_response({"success": True, "credentials": credentials_view()})


def apply_credentials(old_url):
    """A new key reaches the running serve through its key file (read at each /start); a new
    URL needs serve restarted with it, which happens when it runs under this manager."""
    MANAGER.refresh_key()
    if settings.credentials()[0] != old_url and MANAGER.status()["pid"] is not None:
        try:
            MANAGER.restart()
        except ManagerError as exc:
            log.warning("serve not restarted with the new API URL: %s", exc)


def register(routes):
    routes.get("/rtc/control")(get_control)
    routes.post("/rtc/control")(post_control)
    routes.get("/rtc/credentials")(get_credentials)
    routes.post("/rtc/credentials")(post_credentials)
