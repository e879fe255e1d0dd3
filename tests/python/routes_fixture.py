"""ComfyUI's web server stand-in for the route tests: a real aiohttp app on 127.0.0.1 with
PromptServer.instance.routes registered, run by its own event loop thread."""

import asyncio
import threading

from aiohttp import web
from timescale import scaled


class ComfyServer:
    def __init__(self, routes):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        app = web.Application()
        app.add_routes(routes)
        self.runner = web.AppRunner(app)
        self.port = self.call(self._start())
        self.url = f"http://127.0.0.1:{self.port}"

    def call(self, coro, timeout=60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(scaled(timeout))

    async def _start(self):
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return self.runner.addresses[0][1]

    def close(self):
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(scaled(10))
        self.loop.close()
