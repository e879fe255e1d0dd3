"""daydream-rtc's ComfyUI node pack: the rtc-node pack's eight nodes, driving `daydream-rtc serve`.

ComfyUI imports this folder as a package under any folder name. Importing starts, listens and
connects nothing: the routes are added to ComfyUI's route table, and the server manager starts
serve in the background once ComfyUI's web server starts (DAYDREAM_RTC_AUTOSTART=0: never).
"""

import logging
import os

from .nodes_config import RTCStreamControlNet, RTCStreamPipelineConfig, RTCStreamUIPreview
from .nodes_frames import RTCStreamFrameInput, RTCStreamFrameOutput
from .nodes_stream import RTCStreamStatus, StartRTCStream, UpdateRTCStream

log = logging.getLogger("daydream-rtc")

NODE_CLASS_MAPPINGS = {
    "RTCStreamFrameInput": RTCStreamFrameInput,
    "RTCStreamFrameOutput": RTCStreamFrameOutput,
    "StartRTCStream": StartRTCStream,
    "UpdateRTCStream": UpdateRTCStream,
    "RTCStreamStatus": RTCStreamStatus,
    "RTCStreamPipelineConfig": RTCStreamPipelineConfig,
    "RTCStreamControlNet": RTCStreamControlNet,
    "RTCStreamUIPreview": RTCStreamUIPreview,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "RTCStreamFrameInput": "RTC Stream Frame Input",
    "RTCStreamFrameOutput": "RTC Stream Frame Output",
    "StartRTCStream": "Start RTC Stream",
    "UpdateRTCStream": "Update RTC Stream",
    "RTCStreamStatus": "RTC Stream Status",
    "RTCStreamPipelineConfig": "Daydream Pipeline Config",
    "RTCStreamControlNet": "Daydream ControlNet",
    "RTCStreamUIPreview": "RTC Stream UI",
}
WEB_DIRECTORY = "./web"


def _hook_into_comfyui():
    try:
        from server import PromptServer
    except ImportError:  # loaded outside ComfyUI
        return
    instance = getattr(PromptServer, "instance", None)
    if instance is None:
        return
    from . import routes
    from .manager import MANAGER

    routes.register(instance.routes)
    if os.environ.get("DAYDREAM_RTC_AUTOSTART", "1") == "0":
        return

    async def autostart(_app):
        MANAGER.install_exit_hooks()  # ComfyUI's main thread: SIGTERM handler possible here
        MANAGER.start_background()

    instance.app.on_startup.append(autostart)


_hook_into_comfyui()

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
