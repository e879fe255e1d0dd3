"""Frames in and out: RTC Stream Frame Input and Frame Output (spec §9.2, §9.3, weaknesses 19,
25, 26; the raw routes of serve, PNG only for a server without them)."""

import logging
import time

from . import api, comfy_glue, convert

log = logging.getLogger("daydream-rtc")
FALLBACK_SIZE = (1280, 720)  # serve's runtime default, for when no server says otherwise
_sizes = {}  # stream -> (width, height) last configured, for a blank while the server is away
IDLE_STATES = ("idle", "error", "failed", "closed")
_whip_warned = set()  # WHIP URLs given as whep_url that the log has named


class RTCStreamFrameInput:
    CATEGORY = "RTC Stream"
    OUTPUT_NODE = True
    RETURN_TYPES = ()
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {"image": ("IMAGE",)},
            "optional": {"enabled": ("BOOLEAN", {"default": True}), "stream": api.STREAM_INPUT},
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    @classmethod
    def IS_CHANGED(cls, enabled=True, **_):
        return float("nan") if enabled else "disabled"  # a live source is news on every run

    def run(self, image, enabled=True, stream="", unique_id=None):
        if not enabled:
            return ()
        images = convert.checked(image)
        try:
            rtc = api.client_for(stream)
            raw = api.supports_raw(rtc)
            send_batch(rtc, images, raw, unique_id)
        except api.ServerUnavailable as exc:
            api.server_down(exc, "frames not sent")
            return ()
        except api.RtcApiError as exc:
            comfy_glue.notify("error", "Frames Not Sent", str(exc.detail or exc))
            return ()
        api.server_up()
        return ()


def send_batch(rtc, images, raw, node_id):
    """Every image of the batch, in order, on one kept-alive connection; a long batch moves
    ComfyUI's progress bar."""
    total = images.shape[0]
    bar = comfy_glue.progress_bar(total, node_id) if total > 1 else None
    for index, frame in enumerate(convert.iter_frames(images)):
        rtc.send_frame(frame, raw=raw)
        if bar is not None:
            bar.update_absolute(index + 1, total)


class RTCStreamFrameOutput:
    CATEGORY = "RTC Stream"
    OUTPUT_NODE = True
    RETURN_TYPES = ("IMAGE", "STRING")
    RETURN_NAMES = ("image", "whep_url")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {"whep_url": ("STRING", {"default": ""})},
            "optional": {
                "stream": api.STREAM_INPUT,
                "count": ("INT", {"default": 1, "min": 1, "max": 10000, "tooltip": "frames"}),
            },
            "hidden": {"unique_id": "UNIQUE_ID"},
        }

    @classmethod
    def IS_CHANGED(cls, **_):
        return float("nan")

    def run(self, whep_url="", stream="", count=1, unique_id=None):
        try:
            rtc = api.client_for(stream)
            status = rtc.status()
            url = self.subscribe(rtc, status, whep_url.strip())
            size = (
                status["stream_settings"]["frame_width"],
                status["stream_settings"]["frame_height"],
            )
            _sizes[stream] = size
            frames = collect(rtc, api.supports_raw(rtc), int(count), status, unique_id)
        except api.ServerUnavailable as exc:
            api.server_down(exc, "no output frame")
            return (convert.blank_image(*_sizes.get(stream, FALLBACK_SIZE)), whep_url)
        except api.RtcApiError as exc:
            log.warning("no output frame: %s", exc)
            return (convert.blank_image(*_sizes.get(stream, FALLBACK_SIZE)), whep_url)
        api.server_up()
        if not frames:
            return (convert.blank_image(*size), url)
        return (convert.rgb_to_image(frames), url)

    @staticmethod
    def subscribe(rtc, status, wanted):
        """Connects serve's subscriber to the WHEP URL given (or, when none is, to the stream's
        own output), reconnecting when it changed (weakness 19); a WHIP URL is never used."""
        own = api.whep_url_of(status)
        if not wanted or wanted == status.get("whip_url") or wanted.rstrip("/").endswith("/whip"):
            if wanted and wanted not in _whip_warned:  # once: a live loop queues it again
                _whip_warned.add(wanted)
                log.warning("%s is the stream's WHIP (input) URL; using its output instead", wanted)
            wanted = own
        if not wanted:
            return ""
        whep = rtc.whep_status()
        if whep.get("whep_url") != wanted or whep.get("connection_state") in IDLE_STATES:
            rtc.whep_connect(wanted)
        return wanted


def collect(rtc, raw, count, status, node_id):
    """The latest output frame, or the next `count` distinct ones (by arrival time)."""
    read = rtc.whep_frame_raw if raw else rtc.whep_frame_png
    frame, stamp, _w, _h = read()
    if count <= 1:
        return [] if frame is None else [frame]
    fps = float((status.get("stream_settings") or {}).get("frame_rate") or 30)
    patience = max(10.0, 4.0 / fps)
    bar = comfy_glue.progress_bar(count, node_id)
    frames, last, deadline = [], stamp if frame is not None else None, time.monotonic() + patience
    while len(frames) < count and time.monotonic() < deadline:
        frame, stamp, _w, _h = read()
        if frame is not None and stamp != last:
            frames.append(frame.copy())
            last, deadline = stamp, time.monotonic() + patience
            bar.update_absolute(len(frames), count)
        else:
            comfy_glue.check_interrupted()
            time.sleep(min(0.005, 0.25 / fps))
    if len(frames) < count:
        comfy_glue.notify("warn", "Output Stalled", f"{len(frames)} of {count} frames arrived")
    return frames
