#!/usr/bin/python3
"""Independent WebRTC peers (aiortc + aiohttp) for tests of daydream-rtc.

Peers that share no code with the C elements or the local gateway, so that a test can check our
implementation against a second one:

* ``WhipPublisher``: WHIP client (RFC 9725) sending one H.264-only video track.
* ``WhepSubscriber``: WHEP client receiving one video track (H.264 preferred, VP8 accepted) and
  keeping the latest decoded frame, a frame count and arrival times.
* ``SolidColorTrack`` / ``MovingPatternTrack``: paced video sources with proper pts/time_base.
* ``AiortcWhipWhepServer``: WHIP ingest + WHEP egress on 127.0.0.1, relaying the published
  track to every viewer and recording what it saw (headers, frame count, mean colour).

Use Debian's interpreter (/usr/bin/python3). Peer connections never use STUN/TURN
(``iceServers=[]``); run them inside ``scripts/netns-run`` (aioice skips loopback when it
gathers, and finds the veth addresses 10.77.0.1/10.77.0.2 there). Outside a namespace,
``pin_host_addresses()`` makes aioice gather on chosen addresses only.

CLI: ``/usr/bin/python3 tests/interop/drtc_peers.py serve|publish|subscribe --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import logging
import os
import secrets
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import urljoin

import aiohttp
import av
import numpy as np
from aiohttp import web
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import SessionDescription, candidate_from_sdp
from multidict import CIMultiDict
from timescale import scaled

__all__ = [
    "AiortcWhipWhepServer",
    "HttpStatusError",
    "MovingPatternTrack",
    "RecordedRequest",
    "SolidColorTrack",
    "WhepError",
    "WhepSubscriber",
    "WhipError",
    "WhipPublisher",
    "codec_preferences",
    "color_close",
    "in_drtc_netns",
    "install_h264_keyframe_patch",
    "new_peer_connection",
    "pin_host_addresses",
    "pinned_host_addresses",
]

log = logging.getLogger("drtc_peers")

VIDEO_CLOCK_RATE = 90000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
SDP_TYPE = "application/sdp"
SDPFRAG_TYPE = "application/trickle-ice-sdpfrag"
RGB = Tuple[int, int, int]
Region = Tuple[int, int, int, int]  # x, y, width, height in pixels


# --------------------------------------------------------------------------------------------
# Environment helpers


def in_drtc_netns() -> bool:
    """True inside scripts/netns-run (veth drtc0 present) or when DRTC_NETNS=1.

    Asks the kernel (if_nametoindex) rather than /sys/class/net, which unshare --net leaves
    showing the parent namespace's interfaces.
    """
    if os.environ.get("DRTC_NETNS") == "1":
        return True
    try:
        socket.if_nametoindex("drtc0")
    except OSError:
        return False
    return True


def pin_host_addresses(addresses: Sequence[str], monkeypatch: Any = None) -> Callable[[], None]:
    """Make aioice gather host candidates on ``addresses`` only (e.g. ["127.0.0.1"]).

    aioice normally skips 127.0.0.1/::1; this replaces aioice.ice.get_host_addresses. With a
    pytest ``monkeypatch`` the patch is undone by pytest; otherwise call the returned function.
    """
    import aioice.ice

    pinned = list(addresses)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> List[str]:
        return [a for a in pinned if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    if monkeypatch is not None:
        monkeypatch.setattr(aioice.ice, "get_host_addresses", get_host_addresses)
        return lambda: None
    original = aioice.ice.get_host_addresses
    aioice.ice.get_host_addresses = get_host_addresses

    def restore() -> None:
        aioice.ice.get_host_addresses = original

    return restore


@contextlib.contextmanager
def pinned_host_addresses(addresses: Sequence[str]) -> Iterator[None]:
    """Context-manager form of pin_host_addresses()."""
    restore = pin_host_addresses(addresses)
    try:
        yield
    finally:
        restore()


_H264_PATCH: Dict[str, Any] = {"installed": False, "gop": None, "pli": True}


def install_h264_keyframe_patch(interval_frames: Optional[int] = 30, honour_pli: bool = True):
    """Process-wide fix-ups for aiortc 1.4's H.264 encoder (idempotent; last call wins).

    aiortc 1.4 leaves libx264 at its default GOP (an IDR every 250 frames, ~8 s at 30 fps) and
    ignores PLI/FIR (``force_keyframe`` is never used). This sets the GOP to ``interval_frames``
    (None: libx264 default) and, with ``honour_pli``, answers a keyframe request by re-creating
    the encoder (the next frame is an IDR with SPS/PPS), at most every 0.5 s. It also skips
    aiortc's attempt at h264_omx. Affects every aiortc H.264 sender in the process.
    """
    from aiortc.codecs import h264

    _H264_PATCH["gop"] = interval_frames
    _H264_PATCH["pli"] = honour_pli
    if _H264_PATCH["installed"]:
        return
    _H264_PATCH["installed"] = True

    def create_encoder_context(codec_name: str, width: int, height: int, bitrate: int):
        # Same settings as aiortc 1.4's own create_encoder_context, plus the GOP. h264_omx
        # (tried first by aiortc, absent on PCs) is skipped so libx264 is always used.
        if codec_name == "h264_omx":
            raise RuntimeError("h264_omx skipped by drtc_peers")
        codec = av.CodecContext.create(codec_name, "w")
        codec.width = width
        codec.height = height
        codec.bit_rate = bitrate
        codec.pix_fmt = "yuv420p"
        codec.framerate = fractions.Fraction(h264.MAX_FRAME_RATE, 1)
        codec.time_base = fractions.Fraction(1, h264.MAX_FRAME_RATE)
        codec.options = {"profile": "baseline", "level": "31", "tune": "zerolatency"}
        if _H264_PATCH["gop"]:
            codec.gop_size = int(_H264_PATCH["gop"])
        codec.open()
        return codec, codec_name == "h264_omx"

    original_encode = h264.H264Encoder.encode

    def encode(self, frame, force_keyframe=False):
        if force_keyframe and _H264_PATCH["pli"] and getattr(self, "codec", None) is not None:
            now = time.monotonic()
            if now - getattr(self, "_drtc_last_reset", 0.0) >= 0.5:
                self._drtc_last_reset = now
                self.codec = None
                self.buffer_data = b""
                self.buffer_pts = None
        return original_encode(self, frame, force_keyframe)

    h264.create_encoder_context = create_encoder_context
    h264.H264Encoder.encode = encode


# Every peer connection made here, until closed. aiortc runs each receiver's decoder on a
# non-daemon thread that only ends when the connection closes, so one left open (a test that
# failed half-way) keeps the interpreter from ever exiting: run_peers() closes them all.
_open_pcs: Dict[RTCPeerConnection, asyncio.AbstractEventLoop] = {}


def new_peer_connection() -> RTCPeerConnection:
    """An RTCPeerConnection that never contacts STUN/TURN (aiortc 1.4 adds Google's otherwise)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    _open_pcs[pc] = asyncio.get_event_loop()

    @pc.on("connectionstatechange")
    def _forget_closed() -> None:
        if pc.connectionState == "closed":
            _open_pcs.pop(pc, None)

    return pc


async def close_open_peer_connections() -> int:
    """Close every peer connection of the running loop that is still open; returns how many."""
    loop = asyncio.get_running_loop()
    mine = [pc for pc, pc_loop in list(_open_pcs.items()) if pc_loop is loop]
    for pc in mine:
        _open_pcs.pop(pc, None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pc.close(), scaled(5))
    return len(mine)


def run_peers(coro: Any, timeout: float) -> Any:
    """asyncio.run(coro) bounded by ``timeout``, closing the peers it left open, even on error."""

    async def main() -> Any:
        try:
            return await asyncio.wait_for(coro, scaled(timeout))
        finally:
            await close_open_peer_connections()

    return asyncio.run(main())


def codec_preferences(kind: str, names: Iterable[str], rtx: bool = True, receive: bool = False):
    """Codec capabilities for setCodecPreferences, in the order of ``names``.

    "H264" expands to constrained baseline (42e01f) first, then baseline (42001f).
    """
    caps = (RTCRtpReceiver if receive else RTCRtpSender).getCapabilities(kind).codecs
    chosen = []
    for name in names:
        matches = [c for c in caps if c.mimeType.lower() == f"{kind}/{name}".lower()]
        matches.sort(key=lambda c: c.parameters.get("profile-level-id", "") != "42e01f")
        chosen += matches
    if not chosen:
        raise ValueError(f"aiortc has none of the codecs {list(names)}")
    if rtx:
        chosen += [c for c in caps if c.mimeType.lower() == f"{kind}/rtx"]
    return chosen


def answer_codec(sdp: str) -> Optional[str]:
    """The first (chosen) codec of the first video m-line of an SDP, e.g. "video/H264"."""
    try:
        desc = SessionDescription.parse(sdp)
    except Exception:
        return None
    for media in desc.media:
        if media.kind == "video" and media.rtp.codecs:
            return media.rtp.codecs[0].mimeType
    return None


async def _wait_connected(pc: RTCPeerConnection, timeout: float) -> None:
    timeout = scaled(timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while pc.connectionState != "connected":
        if pc.connectionState in ("failed", "closed"):
            raise ConnectionError(f"peer connection {pc.connectionState}")
        if loop.time() >= deadline:
            raise asyncio.TimeoutError(
                f"not connected after {timeout:.1f} s (state {pc.connectionState}, "
                f"ICE {pc.iceConnectionState})"
            )
        await asyncio.sleep(0.02)


def _mean_rgb(rgb: np.ndarray, region: Optional[Region] = None) -> Tuple[float, float, float]:
    if region is not None:
        x, y, w, h = region
        rgb = rgb[y : y + h, x : x + w]
    if rgb.size == 0:
        raise ValueError(f"empty region {region}")
    m = rgb.reshape(-1, 3).mean(axis=0)
    return (float(m[0]), float(m[1]), float(m[2]))


def color_close(actual: Sequence[float], expected: Sequence[float], tolerance: float = 40) -> bool:
    """True when every channel of ``actual`` is within ``tolerance`` of ``expected``."""
    return all(abs(float(a) - float(e)) <= tolerance for a, e in zip(actual, expected))


# --------------------------------------------------------------------------------------------
# Video sources


class _PacedVideoTrack(MediaStreamTrack):
    """Base for the sources: frame pacing at ``fps``, pts in the 90 kHz RTP clock."""

    kind = "video"

    def __init__(self, width: int, height: int, fps: float = 30) -> None:
        super().__init__()
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"width and height must be even and positive, got {width}x{height}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.width = width
        self.height = height
        self.fps = fps
        self.frames_sent = 0
        self._start: Optional[float] = None

    async def _next_pts(self) -> Tuple[int, fractions.Fraction]:
        if self.readyState != "live":
            raise MediaStreamError
        index = self.frames_sent
        if self._start is None:
            self._start = time.monotonic()
        else:
            wait = self._start + index / self.fps - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self.frames_sent += 1
        return round(index * VIDEO_CLOCK_RATE / self.fps), VIDEO_TIME_BASE


class SolidColorTrack(_PacedVideoTrack):
    """Frames of one colour; ``set_color()`` may be called at any time, from any thread."""

    def __init__(self, width: int, height: int, rgb: RGB, fps: float = 30) -> None:
        super().__init__(width, height, fps)
        self.set_color(rgb)

    @property
    def color(self) -> RGB:
        return self._rgb

    def set_color(self, rgb: RGB) -> None:
        rgb = tuple(int(c) for c in rgb)
        if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
            raise ValueError(f"rgb must be three values in 0..255, got {rgb}")
        img = np.empty((self.height, self.width, 3), np.uint8)
        img[:, :] = rgb
        # Convert once per colour; each frame then only copies the I420 planes.
        yuv = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        self._yuv = yuv.to_ndarray()
        self._rgb = rgb

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self._next_pts()
        frame = av.VideoFrame.from_ndarray(self._yuv, format="yuv420p")
        frame.pts = pts
        frame.time_base = time_base
        return frame


class MovingPatternTrack(_PacedVideoTrack):
    """Colour bars scrolling left (``speed`` px per frame) and a white square bouncing down."""

    BARS = [
        (255, 255, 255),
        (255, 255, 0),
        (0, 255, 255),
        (0, 255, 0),
        (255, 0, 255),
        (255, 0, 0),
        (0, 0, 255),
        (0, 0, 0),
    ]

    def __init__(self, width: int, height: int, fps: float = 30, speed: int = 4) -> None:
        super().__init__(width, height, fps)
        self.speed = speed
        bars = np.empty((height, width, 3), np.uint8)
        for i, rgb in enumerate(self.BARS):
            x0 = i * width // len(self.BARS)
            x1 = (i + 1) * width // len(self.BARS)
            bars[:, x0:x1] = rgb
        self._bars = bars
        self._box = max(4, min(width, height) // 6) // 2 * 2

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self._next_pts()
        i = self.frames_sent - 1
        img = np.roll(self._bars, -(i * self.speed) % self.width, axis=1)
        span = self.height - self._box
        y = i * 2 % (2 * span) if span > 0 else 0
        y = y if y <= span else 2 * span - y
        x = (self.width - self._box) // 2
        img[y : y + self._box, x : x + self._box] = 255
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = pts
        frame.time_base = time_base
        return frame


# --------------------------------------------------------------------------------------------
# WHIP / WHEP clients


class HttpStatusError(RuntimeError):
    """A WHIP/WHEP request answered with an unexpected HTTP status."""

    def __init__(
        self, method: str, url: str, status: int, body: str = "", headers: Any = None
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        self.headers = CIMultiDict(headers or {})  # case-insensitive
        self.retry_after = self.headers.get("Retry-After")
        excerpt = " ".join(body.split())[:200]
        super().__init__(f"{method} {url} -> HTTP {status}: {excerpt or '(empty body)'}")


class WhipError(HttpStatusError):
    pass


class WhepError(HttpStatusError):
    pass


class _WhxClient:
    """Signalling shared by WHIP and WHEP clients: POST offer, redirects, PATCH, DELETE."""

    _error = HttpStatusError

    def __init__(self, http_timeout: float = 10.0, max_redirects: int = 5) -> None:
        self.http_timeout = http_timeout
        self.max_redirects = max_redirects
        self.pc: Optional[RTCPeerConnection] = None
        self.offer_sdp: Optional[str] = None
        self.answer_sdp: Optional[str] = None
        self.status: Optional[int] = None
        self.response_headers: CIMultiDict = CIMultiDict()  # case-insensitive
        self.links: List[str] = []
        self.location: Optional[str] = None
        self.etag: Optional[str] = None
        self.request_url: Optional[str] = None  # after redirects
        self.redirects: List[Tuple[int, str]] = []
        self.delete_status: Optional[int] = None
        self.connect_seconds: Optional[float] = None
        self._token: Optional[str] = None
        self._session: Optional[aiohttp.ClientSession] = None
        self._t_start = 0.0

    # -- response header views
    @property
    def link(self) -> Optional[str]:
        return ", ".join(self.links) if self.links else None

    @property
    def playback_url(self) -> Optional[str]:
        return self.response_headers.get("Livepeer-Playback-URL")

    @property
    def negotiated_codec(self) -> Optional[str]:
        return answer_codec(self.answer_sdp) if self.answer_sdp else None

    def _headers(self, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        headers = dict(extra or {})
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=scaled(self.http_timeout))
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def _post_offer(self, url: str, sdp: str) -> str:
        """POST the offer, following 307/308 by hand so Authorization is always kept."""
        headers = self._headers({"Content-Type": SDP_TYPE, "Accept": SDP_TYPE})
        for _ in range(self.max_redirects + 1):
            async with self._http().post(
                url, data=sdp.encode(), headers=headers, allow_redirects=False
            ) as resp:
                body = await resp.text(errors="replace")
                if resp.status in (307, 308) and "Location" in resp.headers:
                    url = urljoin(url, resp.headers["Location"])
                    self.redirects.append((resp.status, url))
                    continue
                self.status = resp.status
                self.request_url = url
                self.response_headers = CIMultiDict(resp.headers)
                self.links = resp.headers.getall("Link", [])
                if not 200 <= resp.status < 300:
                    raise self._error("POST", url, resp.status, body, resp.headers)
                location = resp.headers.get("Location")
                self.location = urljoin(url, location) if location else None
                self.etag = resp.headers.get("ETag")
                return body
        raise self._error("POST", url, 0, f"more than {self.max_redirects} redirects")

    async def _negotiate(self, url: str, token: Optional[str]) -> None:
        self._token = token
        self._t_start = time.monotonic()
        assert self.pc is not None
        pc = self.pc

        @pc.on("connectionstatechange")
        def _on_state() -> None:
            if pc.connectionState == "connected" and self.connect_seconds is None:
                self.connect_seconds = time.monotonic() - self._t_start

        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)  # waits for ICE gathering to complete
        self.offer_sdp = self.pc.localDescription.sdp
        body = await self._post_offer(url, self.offer_sdp)
        if not body.strip():
            raise self._error("POST", url, self.status or 0, "2xx without an SDP answer")
        self.answer_sdp = body
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))

    async def wait_connected(self, timeout: float = 10.0) -> None:
        """Wait until the peer connection is connected (ICE + DTLS)."""
        if self.pc is None:
            raise RuntimeError("not started")
        await _wait_connected(self.pc, timeout)

    def local_sdpfrag(self) -> str:
        """A trickle-ice-sdpfrag with this peer's ICE credentials and candidates (RFC 8840)."""
        if not self.offer_sdp:
            raise RuntimeError("not started")
        keep = ("a=ice-ufrag:", "a=ice-pwd:", "a=candidate:", "a=end-of-candidates")
        lines, mid = [], None
        for line in self.offer_sdp.splitlines():
            if line.startswith("m=") and lines:
                break
            if line.startswith("a=mid:"):
                mid = line
            elif line.startswith(keep):
                lines.append(line)
        if mid:
            lines.insert(0, mid)
        return "\r\n".join(lines) + "\r\n"

    async def patch_sdpfrag(self, frag: Optional[str] = None, if_match: Optional[str] = None):
        """PATCH the resource with a trickle-ice-sdpfrag; returns the HTTP status."""
        if not self.location:
            raise RuntimeError("no resource Location to PATCH")
        headers = {"Content-Type": SDPFRAG_TYPE}
        if if_match or self.etag:
            headers["If-Match"] = if_match or self.etag
        data = (frag if frag is not None else self.local_sdpfrag()).encode()
        async with self._http().patch(
            self.location, data=data, headers=self._headers(headers)
        ) as resp:
            await resp.read()
            return resp.status

    async def stop(self, raise_on_error: bool = False) -> None:
        """DELETE the resource (when a Location was given), then close the peer connection.

        405 is accepted silently; other failures are kept in ``delete_status`` (None when the
        request itself failed) and only raised with ``raise_on_error``.
        """
        error: Optional[BaseException] = None
        try:
            if self.location and self.delete_status is None:
                try:
                    async with self._http().delete(self.location, headers=self._headers()) as r:
                        body = await r.text(errors="replace")
                        self.delete_status = r.status
                        if not (200 <= r.status < 300 or r.status == 405):
                            error = self._error("DELETE", self.location, r.status, body, r.headers)
                except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                    error = e
        finally:
            await self._close()
        if error is not None:
            log.warning("stop: %s", error)
            if raise_on_error:
                raise error

    async def _close(self) -> None:
        pc, self.pc = self.pc, None
        if pc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pc.close(), scaled(5))
        if self._session is not None:
            await self._session.close()
            self._session = None


class WhipPublisher(_WhxClient):
    """WHIP client sending ``track`` (default: a moving pattern) as H.264 only."""

    _error = WhipError

    def __init__(
        self,
        track: Optional[MediaStreamTrack] = None,
        *,
        codecs: Sequence[str] = ("H264",),
        keyframe_interval: Optional[int] = 30,
        http_timeout: float = 10.0,
        max_redirects: int = 5,
    ) -> None:
        super().__init__(http_timeout, max_redirects)
        self.track = track if track is not None else MovingPatternTrack(320, 240)
        self.codecs = tuple(codecs)
        self.keyframe_interval = keyframe_interval

    async def start(self, url: str, token: Optional[str] = None) -> None:
        """Offer (gathering complete), POST it, apply the answer. Raises WhipError on non-2xx."""
        if self.pc is not None:
            raise RuntimeError("already started")
        if self.keyframe_interval is not None:
            install_h264_keyframe_patch(self.keyframe_interval)
        self.pc = new_peer_connection()
        try:
            transceiver = self.pc.addTransceiver(self.track, direction="sendonly")
            transceiver.setCodecPreferences(codec_preferences("video", self.codecs))
            await self._negotiate(url, token)
        except BaseException:
            await self._close()
            raise


class WhepSubscriber(_WhxClient):
    """WHEP client keeping the latest decoded frame (RGB), a frame count and arrival times."""

    _error = WhepError

    def __init__(
        self,
        *,
        codecs: Sequence[str] = ("H264", "VP8"),
        http_timeout: float = 10.0,
        max_redirects: int = 5,
        max_arrivals: int = 100000,
    ) -> None:
        super().__init__(http_timeout, max_redirects)
        self.codecs = tuple(codecs)
        self.frames_received = 0
        self.keyframes_received = 0  # decoded frames flagged key_frame (IDR)
        self.arrivals: deque = deque(maxlen=max_arrivals)  # time.monotonic() per frame
        self.first_frame_seconds: Optional[float] = None  # from start() to the first frame
        self.track_ended = False
        self._latest: Optional[np.ndarray] = None
        self._latest_pts: Optional[int] = None
        self._event: Optional[asyncio.Event] = None
        self._task: Optional[asyncio.Task] = None

    async def start(self, url: str, token: Optional[str] = None) -> None:
        """Offer recv-only, POST it, apply the answer. Raises WhepError (e.g. 404/429/503)."""
        if self.pc is not None:
            raise RuntimeError("already started")
        self._event = asyncio.Event()
        self.pc = new_peer_connection()

        @self.pc.on("track")
        def _on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and self._task is None:
                self._task = asyncio.ensure_future(self._consume(track))

        try:
            transceiver = self.pc.addTransceiver("video", direction="recvonly")
            transceiver.setCodecPreferences(codec_preferences("video", self.codecs, receive=True))
            await self._negotiate(url, token)
        except BaseException:
            await self._close()
            raise

    async def _consume(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    break
                self._latest = frame.to_ndarray(format="rgb24")
                self._latest_pts = frame.pts
                self.keyframes_received += 1 if frame.key_frame else 0
                now = time.monotonic()
                if self.frames_received == 0:
                    self.first_frame_seconds = now - self._t_start
                self.frames_received += 1
                self.arrivals.append(now)
                self._event.set()
        finally:
            self.track_ended = True
            if self._event is not None:
                self._event.set()

    async def wait_frames(self, n: int, timeout: float = 10.0) -> int:
        """Wait until ``n`` frames in all have been decoded; returns the count."""
        return await self._wait(lambda: self.frames_received >= n, timeout, f"{n} frames")

    async def wait_for_color(
        self,
        rgb: Sequence[float],
        tolerance: float = 40,
        timeout: float = 10.0,
        region: Optional[Region] = None,
    ) -> Tuple[float, float, float]:
        """Wait until the latest frame's mean colour is within ``tolerance`` of ``rgb``."""

        def ok() -> bool:
            return self._latest is not None and color_close(self.mean_rgb(region), rgb, tolerance)

        await self._wait(ok, timeout, f"colour {tuple(rgb)}")
        return self.mean_rgb(region)

    async def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> int:
        if self._event is None:
            raise RuntimeError("not started")
        timeout = scaled(timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if self.track_ended:
                raise ConnectionError(f"track ended before {what} ({self.frames_received} frames)")
            remaining = deadline - loop.time()
            if remaining <= 0:
                last = self.mean_rgb() if self._latest is not None else None
                raise asyncio.TimeoutError(
                    f"no {what} after {timeout:.1f} s: {self.frames_received} frames, "
                    f"last mean colour {last}, state {self.pc and self.pc.connectionState}"
                )
            self._event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._event.wait(), remaining)
        return self.frames_received

    def latest_rgb(self) -> Optional[np.ndarray]:
        """The latest decoded frame as an (height, width, 3) uint8 RGB array, or None."""
        return self._latest

    @property
    def frame_size(self) -> Optional[Tuple[int, int]]:
        """(width, height) of the latest frame."""
        return None if self._latest is None else (self._latest.shape[1], self._latest.shape[0])

    def mean_rgb(self, region: Optional[Region] = None) -> Tuple[float, float, float]:
        """Mean (r, g, b) of the latest frame, or of ``region`` = (x, y, width, height)."""
        if self._latest is None:
            raise RuntimeError("no frame received yet")
        return _mean_rgb(self._latest, region)

    def measured_fps(self, window: float = 1.0) -> float:
        """Frames per second over the last ``window`` seconds of arrivals."""
        now = time.monotonic()
        return sum(1 for t in self.arrivals if now - t <= window) / window

    async def stop(self, raise_on_error: bool = False) -> None:
        try:
            await super().stop(raise_on_error)
        finally:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task


# --------------------------------------------------------------------------------------------
# Server


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: List[Tuple[str, str]]
    body: str
    status: Optional[int] = None
    time: float = field(default_factory=time.monotonic)

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


@dataclass
class _Session:
    id: str
    kind: str  # "whip" or "whep"
    pc: RTCPeerConnection
    etag: str
    proxies: List[MediaStreamTrack] = field(default_factory=list)
    task: Optional[asyncio.Task] = None
    patches: List[str] = field(default_factory=list)


class AiortcWhipWhepServer:
    """WHIP ingest + WHEP egress (aiohttp + aiortc) on 127.0.0.1, recording what it saw.

    Endpoints: POST /whip (and /whip2, the target of ``redirect_first``), PATCH/DELETE
    /whip/<id>, POST /whep, PATCH/DELETE /whep/<id>, GET /stats (JSON). The latest publisher
    is relayed (aiortc MediaRelay) to every viewer; POST /whep is 404 until it sent a frame.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        required_token: Optional[str] = None,
        whep_requires_token: bool = False,
        trickle: bool = True,
        redirect_first: bool = False,
        playback_header: bool = True,
        extra_headers: Optional[Dict[str, str]] = None,
        keyframe_interval: Optional[int] = 30,
    ) -> None:
        self.host = host
        self.port = port
        self.required_token = required_token
        self.whep_requires_token = whep_requires_token
        self.trickle = trickle
        self.redirect_first = redirect_first
        self.playback_header = playback_header
        self.extra_headers = dict(extra_headers or {})
        self.keyframe_interval = keyframe_interval
        # What the server saw (plain attributes: readable from any thread).
        self.requests: List[RecordedRequest] = []
        self.frames_received = 0  # over all publishers
        self.keyframes_received = 0  # decoded frames flagged key_frame (IDR)
        self.last_mean_rgb: Optional[Tuple[float, float, float]] = None
        self.last_frame_size: Optional[Tuple[int, int]] = None
        self.first_frame_at: Optional[float] = None  # time.monotonic()
        self.deleted: List[str] = []  # "/whip/<id>" paths, in order
        self.patches: List[Tuple[str, str]] = []  # (path, sdpfrag)
        self.sessions: Dict[str, _Session] = {}
        self._redirected = False
        self._relay: Optional[MediaRelay] = None
        self._source: Optional[MediaStreamTrack] = None
        self._source_id: Optional[str] = None
        self._source_has_frame = False
        self._last_frame: Optional[av.VideoFrame] = None
        self._runner: Optional[web.AppRunner] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    # -- addresses
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def whip_url(self) -> str:
        return self.url + "/whip"

    @property
    def whep_url(self) -> str:
        return self.url + "/whep"

    # -- lifecycle
    async def start(self) -> str:
        """Start listening; returns the base URL (the bound port replaces port 0)."""
        if self.keyframe_interval is not None:
            install_h264_keyframe_patch(self.keyframe_interval)
        self._loop = asyncio.get_running_loop()
        self._relay = MediaRelay()
        app = web.Application(middlewares=[self._record], client_max_size=1 << 20)
        app.router.add_post("/whip", self._post_whip)
        app.router.add_post("/whip2", self._post_whip)
        app.router.add_post("/whep", self._post_whep)
        for kind in ("whip", "whep"):
            app.router.add_patch(f"/{kind}/{{id}}", self._patch)
            app.router.add_delete(f"/{kind}/{{id}}", self._delete)
        app.router.add_get("/stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.url

    async def stop(self) -> None:
        for sid in list(self.sessions):
            await self._close_session(sid)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "AiortcWhipWhepServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    @contextlib.contextmanager
    def run_in_thread(self, timeout: float = 10.0) -> Iterator["AiortcWhipWhepServer"]:
        """Run in a background thread with its own event loop; yields once listening."""
        timeout = scaled(timeout)
        loop = asyncio.new_event_loop()
        started = threading.Event()
        errors: List[BaseException] = []

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as e:  # reported to the caller below
                errors.append(e)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=main, name="drtc-whip-whep-server", daemon=True)
        thread.start()
        if not started.wait(timeout):
            raise TimeoutError(f"server did not start within {timeout} s")
        if errors:
            raise errors[0]
        try:
            yield self
        finally:
            future = asyncio.run_coroutine_threadsafe(self.stop(), loop)
            try:
                future.result(timeout)
            except Exception as e:
                log.warning("server stop: %r", e)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)

    # -- what was seen
    def requests_for(self, method: str, path_prefix: str = "") -> List[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    @property
    def publishing(self) -> bool:
        """A publisher is connected and has sent at least one frame."""
        return self._source is not None and self._source_has_frame

    def last_rgb(self) -> Optional[np.ndarray]:
        """The last received frame as a full-size RGB array (None before the first)."""
        frame = self._last_frame
        return None if frame is None else frame.to_ndarray(format="rgb24")

    def mean_rgb(self, region: Optional[Region] = None) -> Tuple[float, float, float]:
        if region is None and self.last_mean_rgb is not None:
            return self.last_mean_rgb
        rgb = self.last_rgb()
        if rgb is None:
            raise RuntimeError("no frame received yet")
        return _mean_rgb(rgb, region)

    async def wait_for_frames(self, n: int, timeout: float = 10.0) -> int:
        """Poll (from any loop or thread's loop) until ``n`` frames in all were received."""
        return await self._poll(lambda: self.frames_received >= n, timeout, f"{n} frames")

    async def wait_for_color(
        self, rgb: Sequence[float], tolerance: float = 40, timeout: float = 10.0
    ) -> Tuple[float, float, float]:
        def ok() -> bool:
            return self.last_mean_rgb is not None and color_close(
                self.last_mean_rgb, rgb, tolerance
            )

        await self._poll(ok, timeout, f"colour {tuple(rgb)}")
        return self.last_mean_rgb

    async def _poll(self, predicate: Callable[[], bool], timeout: float, what: str) -> int:
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise asyncio.TimeoutError(
                    f"server saw no {what} after {timeout:.1f} s: {self.frames_received} frames, "
                    f"last mean colour {self.last_mean_rgb}"
                )
            await asyncio.sleep(0.02)
        return self.frames_received

    def stats(self) -> Dict[str, Any]:
        return {
            "frames_received": self.frames_received,
            "keyframes_received": self.keyframes_received,
            "last_mean_rgb": self.last_mean_rgb,
            "last_frame_size": self.last_frame_size,
            "publishing": self.publishing,
            "sessions": {sid: s.kind for sid, s in self.sessions.items()},
            "deleted": self.deleted,
            "requests": len(self.requests),
        }

    # -- HTTP handlers
    @web.middleware
    async def _record(self, request: web.Request, handler):
        body = (await request.read()).decode(errors="replace")
        rec = RecordedRequest(request.method, request.path, list(request.headers.items()), body)
        self.requests.append(rec)
        try:
            response = await handler(request)
        except web.HTTPException as e:
            rec.status = e.status
            raise
        rec.status = response.status
        return response

    def _authorized(self, request: web.Request, kind: str) -> bool:
        if not self.required_token or (kind == "whep" and not self.whep_requires_token):
            return True
        return request.headers.get("Authorization") == f"Bearer {self.required_token}"

    @staticmethod
    def _unauthorized() -> web.Response:
        return web.Response(
            status=401, text="missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
        )

    @staticmethod
    def _check_sdp(request: web.Request) -> Optional[web.Response]:
        if request.content_type != SDP_TYPE:
            return web.Response(status=415, text=f"Content-Type must be {SDP_TYPE}")
        return None

    async def _answer(self, pc: RTCPeerConnection, offer: str) -> str:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)  # gathers: the answer carries all candidates
        return pc.localDescription.sdp

    def _created(self, session: _Session, sdp: str) -> web.Response:
        headers = {
            "Location": f"/{session.kind}/{session.id}",
            "ETag": session.etag,
            "Content-Type": SDP_TYPE,
        }
        if self.trickle:
            headers["Accept-Patch"] = SDPFRAG_TYPE
        if session.kind == "whip" and self.playback_header:
            headers["Livepeer-Playback-URL"] = self.whep_url
        headers.update(self.extra_headers)
        return web.Response(status=201, body=sdp.encode(), headers=headers)

    def _new_session(self, kind: str) -> _Session:
        pc = new_peer_connection()
        session = _Session(secrets.token_hex(8), kind, pc, f'"{secrets.token_hex(6)}"')
        self.sessions[session.id] = session

        @pc.on("connectionstatechange")
        async def _on_state() -> None:
            if pc.connectionState in ("failed", "closed") and session.id in self.sessions:
                await self._close_session(session.id)

        return session

    async def _post_whip(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request, "whip"):
            return self._unauthorized()
        if self.redirect_first and not self._redirected and request.path == "/whip":
            self._redirected = True
            return web.Response(status=307, headers={"Location": "/whip2"})
        bad = self._check_sdp(request)
        if bad:
            return bad
        session = self._new_session("whip")

        @session.pc.on("track")
        def _on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self._on_publisher_track(session, track)

        try:
            sdp = await self._answer(session.pc, await request.text())
        except Exception as e:
            await self._close_session(session.id)
            return web.Response(status=400, text=f"cannot answer the offer: {e!r}")
        return self._created(session, sdp)

    def _on_publisher_track(self, session: _Session, track: MediaStreamTrack) -> None:
        # The latest publisher replaces any earlier one as the relayed source.
        self._source, self._source_id, self._source_has_frame = track, session.id, False
        proxy = self._relay.subscribe(track, buffered=True)
        session.proxies.append(proxy)
        session.task = asyncio.ensure_future(self._count_frames(session, proxy))

    async def _count_frames(self, session: _Session, proxy: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await proxy.recv()
            except MediaStreamError:
                break
            small = frame
            if frame.width > 160:  # the mean of a downscaled frame is cheap and close enough
                h = max(2, round(frame.height * 160 / frame.width) // 2 * 2)
                small = frame.reformat(width=160, height=h)
            self.last_mean_rgb = _mean_rgb(small.to_ndarray(format="rgb24"))
            self.last_frame_size = (frame.width, frame.height)
            self._last_frame = frame
            if self.first_frame_at is None:
                self.first_frame_at = time.monotonic()
            self.frames_received += 1
            self.keyframes_received += 1 if frame.key_frame else 0
            if self._source_id == session.id:
                self._source_has_frame = True
        if self._source_id == session.id:
            self._source, self._source_id, self._source_has_frame = None, None, False

    async def _post_whep(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request, "whep"):
            return self._unauthorized()
        bad = self._check_sdp(request)
        if bad:
            return bad
        if not self.publishing:
            return web.Response(status=404, text="no stream is being published")
        session = self._new_session("whep")
        try:
            pc = session.pc
            await pc.setRemoteDescription(
                RTCSessionDescription(sdp=await request.text(), type="offer")
            )
            proxy = self._relay.subscribe(self._source, buffered=False)
            session.proxies.append(proxy)
            pc.addTrack(proxy)
            answer = await pc.createAnswer()
            await pc.setLocalDescription(answer)
            sdp = pc.localDescription.sdp
        except Exception as e:
            await self._close_session(session.id)
            return web.Response(status=400, text=f"cannot answer the offer: {e!r}")
        return self._created(session, sdp)

    def _session_for(self, request: web.Request) -> Optional[_Session]:
        kind = request.path.split("/")[1]
        session = self.sessions.get(request.match_info["id"])
        return session if session is not None and session.kind == kind else None

    async def _patch(self, request: web.Request) -> web.StreamResponse:
        kind = request.path.split("/")[1]
        if not self._authorized(request, kind):
            return self._unauthorized()
        session = self._session_for(request)
        if session is None:
            return web.Response(status=404, text="no such session")
        if not self.trickle:
            return web.Response(status=405, headers={"Allow": "DELETE"})
        if request.content_type != SDPFRAG_TYPE:
            return web.Response(status=415, text=f"Content-Type must be {SDPFRAG_TYPE}")
        if_match = request.headers.get("If-Match")
        if if_match not in (None, "*", session.etag):
            return web.Response(status=412, text="ETag does not match")
        frag = await request.text()
        session.patches.append(frag)
        self.patches.append((request.path, frag))
        mid = None
        for line in frag.splitlines():
            line = line.strip()
            if line.startswith("a=mid:"):
                mid = line[len("a=mid:") :]
            elif line.startswith("a=candidate:"):
                try:
                    candidate = candidate_from_sdp(line[len("a=candidate:") :])
                    candidate.sdpMid = mid if mid is not None else "0"
                    await session.pc.addIceCandidate(candidate)
                except Exception as e:  # duplicates / after end-of-candidates: harmless
                    log.debug("PATCH candidate ignored: %r", e)
        return web.Response(status=204, headers={"ETag": session.etag})

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        kind = request.path.split("/")[1]
        if not self._authorized(request, kind):
            return self._unauthorized()
        session = self._session_for(request)
        if session is None:
            return web.Response(status=404, text="no such session")
        self.deleted.append(request.path)
        await self._close_session(session.id)
        return web.Response(status=200)

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.stats())

    async def _close_session(self, sid: str) -> None:
        session = self.sessions.pop(sid, None)
        if session is None:
            return
        for proxy in session.proxies:
            proxy.stop()
        if self._source_id == sid:
            self._source, self._source_id, self._source_has_frame = None, None, False
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.pc.close(), scaled(5))
        if session.task is not None:
            session.task.cancel()
            with contextlib.suppress(BaseException):
                await session.task


# --------------------------------------------------------------------------------------------
# CLI


def _size(text: str) -> Tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def _rgb(text: str) -> RGB:
    r, g, b = (int(c) for c in text.split(","))
    return r, g, b


async def _cli_serve(args: argparse.Namespace) -> None:
    server = AiortcWhipWhepServer(
        port=args.port,
        required_token=args.token,
        trickle=not args.no_trickle,
        redirect_first=args.redirect_first,
    )
    await server.start()
    print(f"WHIP {server.whip_url}  WHEP {server.whep_url}", flush=True)
    try:
        while True:
            await asyncio.sleep(2)
            print(server.stats(), flush=True)
    finally:
        await server.stop()


async def _cli_publish(args: argparse.Namespace) -> None:
    w, h = args.size
    if args.color:
        track: MediaStreamTrack = SolidColorTrack(w, h, args.color, fps=args.fps)
    else:
        track = MovingPatternTrack(w, h, fps=args.fps)
    pub = WhipPublisher(track)
    await pub.start(args.url, args.token)
    print(f"HTTP {pub.status} Location {pub.location} ETag {pub.etag}", flush=True)
    try:
        await pub.wait_connected(args.timeout)
        print(f"connected in {pub.connect_seconds:.2f} s, codec {pub.negotiated_codec}")
        await asyncio.sleep(args.duration)
    finally:
        await pub.stop()
        print(f"sent {track.frames_sent} frames; DELETE -> {pub.delete_status}")


async def _cli_subscribe(args: argparse.Namespace) -> None:
    sub = WhepSubscriber()
    await sub.start(args.url, args.token)
    print(f"HTTP {sub.status} Location {sub.location} codec {sub.negotiated_codec}", flush=True)
    try:
        await sub.wait_frames(1, args.timeout)
        loop = asyncio.get_running_loop()
        end = loop.time() + args.duration
        while loop.time() < end:
            await asyncio.sleep(1)
            mean = tuple(round(c) for c in sub.mean_rgb())
            print(f"{sub.frames_received} frames, {sub.frame_size}, mean rgb {mean}", flush=True)
    finally:
        await sub.stop()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pin-host", action="append", metavar="ADDR", help="gather only here")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve", help="run AiortcWhipWhepServer until interrupted")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--token")
    p.add_argument("--no-trickle", action="store_true")
    p.add_argument("--redirect-first", action="store_true")
    for name in ("publish", "subscribe"):
        p = sub.add_parser(name, help=f"{name} via WH{'I' if name == 'publish' else 'E'}P")
        p.add_argument("url")
        p.add_argument("--token")
        p.add_argument("--duration", type=float, default=10.0)
        p.add_argument("--timeout", type=float, default=10.0)
        if name == "publish":
            p.add_argument("--size", type=_size, default=(320, 240))
            p.add_argument("--fps", type=float, default=30)
            p.add_argument("--color", type=_rgb, help="r,g,b solid colour (default: pattern)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    if args.pin_host:
        pin_host_addresses(args.pin_host)
    elif not in_drtc_netns():
        print(
            "note: not in scripts/netns-run; candidates are this host's addresses", file=sys.stderr
        )
    run = {"serve": _cli_serve, "publish": _cli_publish, "subscribe": _cli_subscribe}[args.cmd]
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        pass
    except HttpStatusError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
