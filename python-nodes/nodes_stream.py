"""Start, Update and Status of a stream (spec §9.4-§9.6, weaknesses 19, 20, 27, 31)."""

import json
import logging

from . import api, comfy_glue, pipeline

log = logging.getLogger("daydream-rtc")
EMPTY = ("", "", "", "")
IDLE_STATUS = (False, "", "", "", 0, 0, "{}")


def short(stream_id):
    return f"{stream_id[:12]}..."


def settings_of(status):
    s = status.get("stream_settings") or {}
    return (round(float(s.get("frame_rate", 0))), s.get("frame_width"), s.get("frame_height"))


def outputs_of(status):
    return (
        status.get("stream_id", ""),
        status.get("playback_id", ""),
        status.get("whip_url", ""),
        api.whep_url_of(status),
    )


class StartRTCStream:
    CATEGORY = "RTC Stream"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING", "STRING", "STRING", "STRING")
    RETURN_NAMES = ("stream_id", "playback_id", "whip_url", "whep_url")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        size = {"default": 512, "min": 64, "max": 4096, "step": 8}
        return {
            "required": {"pipeline_config": ("PIPELINE_CONFIG",)},
            "optional": {
                "stream_name": ("STRING", {"default": "comfyui-livestream"}),
                "fps": ("INT", {"default": 30, "min": 1, "max": 120, "step": 1}),
                "width": ("INT", dict(size)),
                "height": ("INT", dict(size)),
                "enabled": (
                    "BOOLEAN",
                    {"default": True, "label_on": "Enabled", "label_off": "Disabled"},
                ),
                "stop_stream": (
                    "BOOLEAN",
                    {"default": False, "label_on": "Stop stream", "label_off": "Idle"},
                ),
                "stream": api.STREAM_INPUT,
            },
            "hidden": {"unique_id": "UNIQUE_ID", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    @classmethod
    def IS_CHANGED(cls, pipeline_config=None, stream_name="comfyui-livestream", fps=30, **kw):
        flags = f"{int(bool(kw.get('enabled', True)))}:{int(bool(kw.get('stop_stream', False)))}"
        key = f"{pipeline.config_hash(pipeline_config)}:{stream_name}:{fps}"
        key += f":{kw.get('width', 512)}:{kw.get('height', 512)}:{flags}"
        key += f":{kw['stream']}" if kw.get("stream") else ""
        return f"{key}@{api.server_identity()}"  # a restarted serve has lost the stream

    def __init__(self):
        self.cache_key = None
        self.result = None

    def run(self, pipeline_config, stream_name="comfyui-livestream", fps=30, width=512, **kw):
        height, stream = kw.get("height", 512), kw.get("stream", "")
        stopping, enabled = bool(kw.get("stop_stream", False)), bool(kw.get("enabled", True))
        cache_key = f"{pipeline.config_hash(pipeline_config)}:{stream_name}:{fps}:{width}:{height}"
        cache_key += f":{stream}"
        if not enabled and not stopping:
            return self.result or EMPTY
        if (
            not stopping
            and self.result
            and f"{cache_key}@{api.server_identity()}" == self.cache_key
        ):
            return self.result
        try:
            rtc = api.client_for(stream)
            if stopping:
                return self.stop(rtc, kw.get("unique_id"))
            body = {
                "stream_name": stream_name,
                "pipeline_config": pipeline_config,
                "frame_rate": fps,
                "frame_width": width,
                "frame_height": height,
            }
            self.result = self.start(rtc, body)
        except api.RtcApiError as exc:
            if stopping:
                comfy_glue.set_widget(kw.get("unique_id"), "stop_stream", False)
            comfy_glue.notify(
                "error",
                "Stream Start Failed" if not stopping else "Stream Stop Failed",
                str(exc.detail or exc),
            )
            self.cache_key = self.result = None
            return EMPTY
        self.cache_key = f"{cache_key}@{api.server_identity()}"  # the serve that has it now
        return self.result

    def stop(self, rtc, node_id):
        if rtc.status().get("running"):
            rtc.stop()
            comfy_glue.notify("info", "Stream Stopped", "Stop request sent")
        api.APPLIED.pop((rtc.base_url, rtc.prefix), None)
        self.cache_key = self.result = None
        comfy_glue.set_widget(node_id, "stop_stream", False)  # the browser resets the toggle
        return EMPTY

    def start(self, rtc, body):
        """A running stream is reused and brought in line with this node's config: PATCHed, or
        restarted when its frame rate or size differ (the toast says which)."""
        status = rtc.status()
        digest = pipeline.config_hash(body["pipeline_config"])
        key = (rtc.base_url, rtc.prefix)
        if status.get("running") and status.get("stream_id"):
            wanted = (body["frame_rate"], body["frame_width"], body["frame_height"])
            if settings_of(status) == wanted:
                return self.reuse(rtc, status, body, digest)
            status = rtc.start(body)
            comfy_glue.notify(
                "info",
                "Stream Restarted",
                f"Frame rate or size changed: {wanted[1]}x{wanted[2]} at {wanted[0]} fps, "
                f"stream {short(status.get('stream_id', ''))}",
            )
        else:
            status = rtc.start(body)
            comfy_glue.notify(
                "success", "Stream Started", f"Stream ID: {short(status['stream_id'])}"
            )
        api.APPLIED[key] = (status.get("stream_id", ""), digest)
        return outputs_of(status)

    def reuse(self, rtc, status, body, digest):
        key = (rtc.base_url, rtc.prefix)
        if api.APPLIED.get(key) == (status["stream_id"], digest):
            detail = f"Reusing existing stream: {short(status['stream_id'])}"
        else:
            rtc.patch_pipeline(body["pipeline_config"])
            api.APPLIED[key] = (status["stream_id"], digest)
            detail = f"Reusing existing stream: {short(status['stream_id'])}; parameters updated"
        comfy_glue.notify("info", "Stream Already Running", detail)
        return outputs_of(status)


class UpdateRTCStream:
    CATEGORY = "RTC Stream"
    OUTPUT_NODE = True
    RETURN_TYPES = ()
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {"pipeline_config": ("PIPELINE_CONFIG",)},
            "optional": {"enabled": ("BOOLEAN", {"default": True}), "stream": api.STREAM_INPUT},
        }

    @classmethod
    def IS_CHANGED(cls, pipeline_config=None, enabled=True, stream=""):
        if not enabled:
            return "update-disabled"
        return pipeline.config_hash(pipeline_config) + (f":{stream}" if stream else "")

    def run(self, pipeline_config, enabled=True, stream=""):
        if not enabled:
            return ()
        try:
            rtc = api.client_for(stream)
            status = rtc.status()
        except api.RtcApiError:
            comfy_glue.notify("error", "Update Failed", "API server unavailable")
            return ()
        stream_id = status.get("stream_id", "")
        if not status.get("running") or not stream_id:
            comfy_glue.notify(
                "warn", "Update Skipped", "No active stream found; start a stream first"
            )
            return ()
        digest, key = pipeline.config_hash(pipeline_config), (rtc.base_url, rtc.prefix)
        if api.APPLIED.get(key) == (stream_id, digest):
            return ()  # the stream already runs this config: nothing to send
        try:
            rtc.patch_pipeline(pipeline_config)
        except api.RtcApiError as exc:
            report_update_error(exc)
            return ()
        api.APPLIED[key] = (stream_id, digest)
        comfy_glue.notify(
            "success", "Pipeline Updated", f"Stream {short(stream_id)} parameters updated"
        )
        return ()


def report_update_error(exc):
    code = api.upstream_status(exc)
    if code == 409:
        comfy_glue.notify("warn", "No Active Stream", "Start a stream before updating parameters")
    elif code == 405:
        comfy_glue.notify(
            "warn",
            "Update Not Supported",
            "PATCH endpoint not available. Stop and restart stream instead.",
        )
    else:
        comfy_glue.notify("error", "Update Failed", str(exc.detail or exc))


class RTCStreamStatus:
    CATEGORY = "RTC Stream"
    RETURN_TYPES = ("BOOLEAN", "STRING", "STRING", "STRING", "INT", "INT", "STRING")
    RETURN_NAMES = (
        "running",
        "stream_id",
        "playback_id",
        "whep_url",
        "frames_sent",
        "queue_depth",
        "status_json",
    )
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"optional": {"stream_id": ("STRING", {"default": ""}), "stream": api.STREAM_INPUT}}

    @classmethod
    def IS_CHANGED(cls, **_):
        return float("nan")  # a status is news on every run

    def run(self, stream_id="", stream=""):
        try:
            status = api.client_for(stream, wait=5).status()
        except api.RtcApiError as exc:
            log.warning("status unavailable: %s", exc)
            return IDLE_STATUS
        return (
            bool(status.get("running")),
            status.get("stream_id", ""),
            status.get("playback_id", ""),
            api.whep_url_of(status),
            int(status.get("frames_sent", 0)),
            int(status.get("queue_depth", 0)),
            json.dumps(status, indent=2),
        )
