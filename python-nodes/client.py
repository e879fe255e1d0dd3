"""The one HTTP client for `daydream-rtc serve` (or any rtc-node compatible server): a kept-alive
requests.Session per base URL, a timeout on every call, errors that carry the status code."""

import json
import re
import threading
import time

import requests

from . import comfy_glue, convert

STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Client timeouts stay above serve's own upstream ones (30 s for a Daydream create or update), so
# a slow create answers 502 from serve instead of timing out here (weakness 27).
TIMEOUTS = {"health": 2, "status": 5, "start": 45, "stop": 20, "patch": 45, "cache": 5}
TIMEOUTS.update({"whep": 10, "frame": 10})
MAX_BACKPRESSURE_WAIT = 120.0  # seconds one frame may wait for room in serve's queue
RAW = "application/octet-stream"

_sessions = {}
_sessions_lock = threading.Lock()


class RtcApiError(RuntimeError):
    """A refused or failed call; `status` is the HTTP status, None when nothing answered."""

    def __init__(self, message, status=None, detail=""):
        super().__init__(message)
        self.status = status
        self.detail = detail


class ServerUnavailable(RtcApiError):
    """Nothing answered at the base URL."""


def session_for(base_url):
    with _sessions_lock:
        session = _sessions.get(base_url)
        if session is None:
            session = _sessions[base_url] = requests.Session()
        return session


def error_detail(response):
    try:
        detail = response.json().get("detail", "")
    except (ValueError, AttributeError):
        return response.text[:300]
    return detail if isinstance(detail, str) else json.dumps(detail)[:300]


def stream_prefix(stream):
    stream = (stream or "").strip()
    if not stream:
        return ""
    if not STREAM_NAME.match(stream):
        raise RtcApiError(f"stream name '{stream}': 1 to 64 letters, digits, '-' or '_'")
    return f"/streams/{stream}"


class RtcClient:
    """Calls on one stream of one server; `stream` "" is the reference routes' default stream."""

    def __init__(self, base_url, stream=""):
        self.base_url = base_url.rstrip("/")
        self.prefix = stream_prefix(stream)
        self.http = session_for(self.base_url)

    def request(self, method, path, timeout, *, stream_route=True, ok=(200,), **kwargs):
        url = self.base_url + (self.prefix if stream_route else "") + path
        try:
            response = self.http.request(method, url, timeout=timeout, **kwargs)
        except requests.RequestException as exc:
            raise ServerUnavailable(f"{method} {url}: {exc}") from None
        if response.status_code not in ok:
            detail = error_detail(response)
            raise RtcApiError(
                f"{method} {path} -> {response.status_code}: {detail}", response.status_code, detail
            )
        return response

    def json(self, method, path, timeout, **kwargs):
        return self.request(method, path, timeout, **kwargs).json()

    def healthz(self):
        return self.json("GET", "/healthz", TIMEOUTS["health"], stream_route=False)

    def status(self):
        return self.json("GET", "/status", TIMEOUTS["status"])

    def start(self, body):
        return self.json("POST", "/start", TIMEOUTS["start"], json=body)

    def stop(self):
        return self.json("POST", "/stop", TIMEOUTS["stop"])

    def patch_pipeline(self, config):
        return self.json("PATCH", "/pipeline", TIMEOUTS["patch"], json={"pipeline_config": config})

    def cache_pipeline(self, config):
        return self.json(
            "POST", "/pipeline/cache", TIMEOUTS["cache"], json={"pipeline_config": config}
        )

    def whep_status(self):
        return self.json("GET", "/whep/status", TIMEOUTS["whep"])

    def whep_connect(self, url):
        return self.json("POST", "/whep/connect", TIMEOUTS["whep"], json={"whep_url": url})

    def whep_frame_raw(self):
        """(H x W x 3 uint8 frame or None before the first one, its timestamp, width, height)."""
        r = self.request("GET", "/whep/frame", TIMEOUTS["frame"], params={"format": "raw"})
        width, height = int(r.headers["X-Frame-Width"]), int(r.headers["X-Frame-Height"])
        if r.headers.get("X-Has-Frame") != "1":
            return None, 0.0, width, height
        stamp = float(r.headers.get("X-Frame-Timestamp", "0"))
        return convert.rgb_from_bytes(r.content, width, height), stamp, width, height

    def whep_frame_png(self):
        """The compatible JSON form, for servers without the raw one."""
        import base64

        body = self.json("GET", "/whep/frame", TIMEOUTS["frame"])
        frame = convert.png_to_rgb(base64.b64decode(body.get("frame_b64", "")))
        stamp = float((body.get("metadata") or {}).get("timestamp", 0.0))
        return (frame if body.get("has_frame") else None), stamp, frame.shape[1], frame.shape[0]

    def send_frame(self, frame, raw=True):
        """Posts one H x W x 3 uint8 frame; waits out a full queue (503 + Retry-After) and sends
        the same frame again, so nothing is dropped; gives up after MAX_BACKPRESSURE_WAIT."""
        if raw:
            height, width = frame.shape[:2]
            kwargs = {
                "params": {"width": width, "height": height},
                "data": frame.tobytes(),
                "headers": {"Content-Type": RAW},
            }
        else:
            import base64

            kwargs = {"json": {"frame_b64": base64.b64encode(convert.png_bytes(frame)).decode()}}
        deadline = time.monotonic() + MAX_BACKPRESSURE_WAIT
        while True:
            r = self.request("POST", "/frames", TIMEOUTS["frame"], ok=(200, 503), **kwargs)
            if r.status_code == 200:
                return r.json()
            wait = retry_after(r)
            if time.monotonic() + wait > deadline:
                raise RtcApiError("serve's frame queue stayed full", 503, error_detail(r))
            comfy_glue.check_interrupted()
            time.sleep(wait)


def retry_after(response):
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.05), 10.0)
    except ValueError:
        return 1.0
