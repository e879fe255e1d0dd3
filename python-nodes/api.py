"""How nodes reach serve: the manager's server (waiting, bounded, for one that is starting), the
raw-frame feature check, and one toast per outage instead of a silent loss (weakness 25)."""

import os
import re
import threading

from . import comfy_glue
from .client import RtcApiError, RtcClient, ServerUnavailable
from .manager import MANAGER

_raw_support = {}
_outage = {"down": False}
_lock = threading.Lock()
APPLIED = {}  # (base URL, stream) -> (stream_id, config hash) last started or PATCHed
# the optional input of every node that talks to a stream (/streams/{name}/... routes)
STREAM_INPUT = ("STRING", {"default": "", "tooltip": "stream name; empty = the default stream"})
UPSTREAM = re.compile(r"Failed to (?:create|update) stream (\d{3})")


def client_for(stream="", wait=None):
    base = MANAGER.base_url() if wait is None else MANAGER.base_url(timeout=wait)
    return RtcClient(base, stream)


def server_identity():
    """Which serve the nodes talk to ("" for one named by DAYDREAM_RTC_SERVER_URL): part of the
    Start node's cache key, so a restarted serve gets its stream started again."""
    return "" if os.environ.get("DAYDREAM_RTC_SERVER_URL") else MANAGER.identity()


def supports_raw(rtc):
    """daydream-rtc serve takes and gives raw RGB; another rtc-node server gets PNG."""
    with _lock:
        known = _raw_support.get(rtc.base_url)
    if known is None:
        known = rtc.healthz().get("service") == "daydream-rtc"
        with _lock:
            _raw_support[rtc.base_url] = known
    return known


def server_down(exc, what):
    """Says once per outage (toast + log) that the server cannot be reached."""
    with _lock:
        first, _outage["down"] = not _outage["down"], True
    if first:
        comfy_glue.notify("error", "RTC Server Unavailable", f"{what}: {exc}")


def server_up():
    with _lock:
        was_down, _outage["down"] = _outage["down"], False
    if was_down:
        comfy_glue.notify("success", "RTC Server Back", "daydream-rtc serve answers again")


def upstream_status(exc):
    """The status code behind an error: serve's own, or Daydream's inside a 502's detail."""
    if exc.status == 502:
        found = UPSTREAM.search(exc.detail or "")
        if found:
            return int(found.group(1))
    return exc.status


def whep_url_of(status):
    """status.whep_url, else the one in the Daydream status payload; never the WHIP URL (§9.6)."""
    url = status.get("whep_url")
    if isinstance(url, str) and url:
        return url
    remote = status.get("remote_status") or {}
    for payload in (remote.get("body"), status):
        if not isinstance(payload, dict):
            continue
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        if payload.get("success") is True and payload.get("error") is None:
            url = (data.get("gateway_status") or {}).get("whep_url")
        else:
            url = data.get("whep_url")
        if isinstance(url, str) and url:
            return url
    return ""


__all__ = ["RtcApiError", "ServerUnavailable", "client_for", "supports_raw", "upstream_status"]
