"""A real aiohttp server standing in for ComfyUI's, for the extension's browser tests.

It serves the stand-in page (tests/browser/standin: `app` and `api` with the shapes of the
frontend types), the pack's web directory under a folder name the extension must not know,
ComfyUI's settings routes, a websocket for `rtc-stream-notification`, the pack's relay
(python-nodes/relay.py, the real one) and stand-ins of the pack's /rtc/control and
/rtc/credentials (the real ones come with the node pack). `ScriptedServe` is a second server
answering serve's /status with phases a test scripts, so that the badge's transitions can be
seen one by one.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sys
import threading
from typing import Any, Dict, List, Optional

from aiohttp import WSMsgType, web

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WEB = ROOT / "python-nodes" / "web"
PACK_DIR = "ComfyUI-some-folder-name"  # the extension finds its own URL

sys.path.insert(0, str(ROOT / "python-nodes"))
from relay import add_relay_routes  # noqa: E402
from timescale import scaled  # noqa: E402


class _Threaded:
    """An aiohttp app on 127.0.0.1 (a free port) in a thread of its own."""

    def __init__(self, port: int = 0) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = port
        self.url = ""
        self._runner: Optional[web.AppRunner] = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def app(self) -> web.Application:
        raise NotImplementedError

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._runner = web.AppRunner(self.app())
        self.loop.run_until_complete(self._runner.setup())
        # a client still sending a refused body must not hold up the end of a test
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, shutdown_timeout=1.0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> "_Threaded":
        self._thread.start()
        self._ready.wait(scaled(10))
        return self

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(scaled(20))

    def stop(self) -> None:
        if self._runner:
            self.call(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(scaled(10))


class ScriptedServe(_Threaded):
    """serve's /status, /start, /stop, /config, /whep/status, answering what a test scripts.

    After /start the phase goes STREAM_CREATED, WHIP_OFFER, WHIP_ESTABLISHED, each for
    `polls_per_phase` reads of /status, as serve's own phases follow one another, then
    REMOTE_STATUS: Daydream's status poll (ONLINE) as serve reports it.
    """

    PHASES = ("STREAM_CREATED", "WHIP_OFFER", "WHIP_ESTABLISHED", "REMOTE_STATUS")
    REMOTE = {
        "http_status": 200,
        "body": {
            "success": True,
            "data": {
                "state": "ONLINE",
                "inference_status": {"input_fps": 29.5, "output_fps": 28.5},
            },
        },
    }

    def __init__(self, polls_per_phase: int = 3) -> None:
        super().__init__()
        self.polls_per_phase = polls_per_phase
        self.reads: List[float] = []  # loop time of every /status read
        self.extra: Dict[str, Any] = {}
        self.config_status = 200
        self._reads_since_start: Optional[int] = None
        self._stopped = False

    def status(self) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            "running": False,
            "stream_id": None,
            "playback_id": None,
            "whep_url": None,
            "frames_sent": 0,
            "queue_depth": 0,
            "state": "idle",
            "fps": 0.0,
            "bitrate": 0,
            "remote_status": {"phase": "STOPPED" if self._stopped else None},
        }
        if self._reads_since_start is not None:
            i = min(self._reads_since_start // self.polls_per_phase, len(self.PHASES) - 1)
            remote = {"phase": self.PHASES[i]}
            if self.PHASES[i] == "REMOTE_STATUS":
                remote.update(self.REMOTE)
            body.update(
                running=True,
                stream_id="str_scripted",
                state="streaming",
                remote_status=remote,
                fps=30.0,
                bitrate=250000,
                rtt=0.012,
                frames_sent=10 * self._reads_since_start,
                queue_depth=1,
            )
            self._reads_since_start += 1
        body.update(self.extra)
        return body

    def app(self) -> web.Application:
        app = web.Application()

        async def status(request: web.Request) -> web.Response:
            self.reads.append(asyncio.get_running_loop().time())
            return web.json_response(self.status())

        async def start(request: web.Request) -> web.Response:
            self._reads_since_start = 0
            self._stopped = False
            return web.json_response(self.status())

        async def stop(request: web.Request) -> web.Response:
            self._reads_since_start = None
            self._stopped = True
            return web.json_response(self.status())

        async def config(request: web.Request) -> web.Response:
            if request.method == "POST" and self.config_status != 200:
                return web.json_response(
                    {"detail": "the runtime config is locked while streaming"},
                    status=self.config_status,
                )
            cfg = {"frame_rate": 30, "frame_width": 512, "frame_height": 512, "locked": False}
            if request.method == "POST":
                cfg.update(await request.json())
            return web.json_response(cfg)

        async def whep(request: web.Request) -> web.Response:
            return web.json_response(
                {"connection_state": "new", "frames_received": 0, "last_error": ""}
            )

        async def reads(request: web.Request) -> web.Response:
            return web.json_response({"reads": len(self.reads)})

        app.router.add_get("/reads", reads)
        app.router.add_get("/status", status)
        app.router.add_post("/start", start)
        app.router.add_post("/stop", stop)
        app.router.add_route("*", "/config", config)
        app.router.add_get("/whep/status", whep)
        return app


class StandinComfy(_Threaded):
    """The ComfyUI stand-in; `serve_url` is the serve that /rtc/control "starts"."""

    def __init__(
        self,
        serve_url: str,
        settings: Optional[Dict[str, Any]] = None,
        credentials_dir: Optional[str] = None,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.serve_url = serve_url
        self.running = False
        self.settings: Dict[str, Any] = dict(settings or {})
        self.credentials_file = (
            pathlib.Path(credentials_dir or "/tmp") / "daydream-credentials.json"
        )
        self.control_calls: List[Dict[str, Any]] = []
        self._sockets: List[web.WebSocketResponse] = []

    # -- state a test reads
    def stored_key(self) -> Optional[str]:
        if not self.credentials_file.exists():
            return None
        return json.loads(self.credentials_file.read_text()).get("api_key")

    # -- the routes
    def server_status(self) -> Dict[str, Any]:
        host, port = self.serve_url.split("//")[1].split(":")
        if not self.running:
            return {"running": False, "host": None, "port": None, "pid": None, "type": "local"}
        return {"running": True, "host": host, "port": int(port), "pid": None, "type": "local"}

    def _credentials(self) -> Dict[str, Any]:
        stored = (
            json.loads(self.credentials_file.read_text()) if self.credentials_file.exists() else {}
        )
        return {
            "success": True,
            "credentials": {
                "api_url": stored.get("api_url", "https://api.daydream.live"),
                "has_api_key": bool(stored.get("api_key")),
                "sources": {
                    "api_url": "settings" if "api_url" in stored else "default",
                    "api_key": "settings" if stored.get("api_key") else "missing",
                },
            },
        }

    def app(self) -> web.Application:
        app = web.Application()
        routes = web.RouteTableDef()

        @routes.get("/")
        async def index(request: web.Request) -> web.FileResponse:
            return web.FileResponse(HERE / "standin" / "index.html")

        @routes.get("/api/extensions")
        async def extensions(request: web.Request) -> web.Response:
            files = sorted(p.name for p in WEB.glob("*.js"))
            return web.json_response([f"/extensions/{PACK_DIR}/{f}" for f in files])

        @routes.get("/api/settings")
        async def get_settings(request: web.Request) -> web.Response:
            return web.json_response(self.settings)

        @routes.post("/api/settings/{id}")
        async def set_setting(request: web.Request) -> web.Response:
            self.settings[request.match_info["id"]] = json.loads(await request.text())
            return web.json_response({})

        @routes.get("/ws")
        async def ws(request: web.Request) -> web.WebSocketResponse:
            sock = web.WebSocketResponse()
            await sock.prepare(request)
            self._sockets.append(sock)
            async for msg in sock:
                if msg.type == WSMsgType.ERROR:
                    break
            self._sockets.remove(sock)
            return sock

        @routes.post("/standin/notify")
        async def notify(request: web.Request) -> web.Response:
            kind = request.query.get("type", "rtc-stream-notification")
            msg = json.dumps({"type": kind, "data": await request.json()})
            for sock in list(self._sockets):
                await sock.send_str(msg)
            return web.json_response({"sent": len(self._sockets)})

        async def control(request: web.Request) -> web.Response:
            body: Dict[str, Any] = {}
            if request.method == "POST":
                try:
                    body = await request.json()
                except ValueError:
                    body = {}
            self.control_calls.append(body)
            action = str(body.get("action", "status")).lower()
            if action in ("start", "restart"):
                self.running = True
            elif action == "stop":
                was, self.running = self.running, False
                return web.json_response({"success": was, "status": self.server_status()})
            elif action != "status":
                return web.json_response(
                    {"success": False, "error": f"Invalid action '{action}'"}, status=400
                )
            return web.json_response({"success": True, "status": self.server_status()})

        async def credentials(request: web.Request) -> web.Response:
            if request.method == "POST":
                change = await request.json()
                for k in ("api_url", "api_key"):
                    if k in change and not isinstance(change[k], str):
                        return web.json_response(
                            {"success": False, "error": f"{k} must be a string"}, status=400
                        )
                stored = (
                    json.loads(self.credentials_file.read_text())
                    if self.credentials_file.exists()
                    else {}
                )
                stored.update(change)
                fd = os.open(self.credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    json.dump(stored, f)
            return web.json_response(self._credentials())

        for prefix in ("", "/api"):
            routes.route("*", f"{prefix}/rtc/control")(control)
            routes.route("*", f"{prefix}/rtc/credentials")(credentials)
            add_relay_routes(
                routes, lambda: self.serve_url if self.running else None, prefix=f"{prefix}/rtc/api"
            )
        routes.static("/scripts", HERE / "standin" / "scripts")
        routes.static("/standin", HERE / "standin")
        routes.static(f"/extensions/{PACK_DIR}", WEB)
        app.add_routes(routes)
        return app
