"""Stand-in for ComfyUI's server module (v0.8.0): PromptServer.instance with an aiohttp
RouteTableDef `routes`, the aiohttp `app` and send_sync (recorded here instead of sent)."""

from aiohttp import web


class PromptServer:
    instance = None

    def __init__(self):
        PromptServer.instance = self
        self.routes = web.RouteTableDef()
        self.app = web.Application()
        self.sent = []

    def send_sync(self, event, data, sid=None):
        self.sent.append((event, data))

    def add_routes(self):
        self.app.add_routes(self.routes)
