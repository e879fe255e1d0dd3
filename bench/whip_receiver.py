#!/usr/bin/python3
"""WHIP receiver for bench/whip_bench.py: webrtcbin answerers that time every decoded frame.

One process serves every publisher of a bench run (aiohttp on 127.0.0.1). ``POST
/whip/<label>`` answers the offer with a webrtcbin (``latency=0``, UPnP off, no TCP candidates,
gathering on 127.0.0.1 only) feeding ``rtph264depay ! h264parse ! avdec_h264 thread-type=slice
! appsink sync=false``. For each decoded frame it records ``time.monotonic()`` on arrival at the
appsink, the frame number read from the marker in the picture (see ``stamp_marker``), when the
access unit left the depayloader, when the frame's last RTP packet left nicesrc and entered the
depayloader (matched by RTP timestamp; SRTP leaves the header in clear), and the access unit's
size.
``GET /results/<label>`` returns them as JSON; ``DELETE /whip/<label>/<id>`` ends a session;
``POST /shutdown`` (or SIGTERM) stops the process.

CLOCK_MONOTONIC is shared by every process on the machine, so these times compare directly
with the push times the senders record.

Also holds the marker code both sides use: a frame number as 16 black/white 32x32 blocks in
the top rows, with the complement in the 32 rows below, read back by thresholding block means
of the luma plane.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import sys
import threading
import time
from typing import Any, Dict, List, Optional

import numpy as np

MARK_BITS = 16
MARK_BLOCK = 32
MARK_ROWS = 2 * MARK_BLOCK  # the number, then its complement
MARK_WIDTH = MARK_BITS * MARK_BLOCK
_MARGIN = 8  # pixels of each block edge left out of its mean (H.264 ringing, chroma bleed)
_LOW, _HIGH = 80.0, 170.0  # luma block means between these are unreadable


def stamp_marker(rgb: np.ndarray, number: int) -> None:
    """Write ``number`` (mod 2**16) into the top MARK_ROWS rows of an (h, w, 3) uint8 frame."""
    number &= (1 << MARK_BITS) - 1
    for bit in range(MARK_BITS):
        on = (number >> (MARK_BITS - 1 - bit)) & 1
        x = bit * MARK_BLOCK
        rgb[0:MARK_BLOCK, x : x + MARK_BLOCK] = 255 if on else 0
        rgb[MARK_BLOCK:MARK_ROWS, x : x + MARK_BLOCK] = 0 if on else 255


def _bits(means: np.ndarray) -> Optional[List[int]]:
    if np.any((means > _LOW) & (means < _HIGH)):
        return None
    return [int(m >= 128) for m in means]


def read_marker(luma: np.ndarray) -> Optional[int]:
    """The number in the top rows of a luma (or any single-channel) plane, or None if unreadable.

    ``luma`` is (rows, width) with at least MARK_ROWS rows and MARK_WIDTH columns.
    """
    if luma.shape[0] < MARK_ROWS or luma.shape[1] < MARK_WIDTH:
        return None
    a, b = _MARGIN, MARK_BLOCK - _MARGIN
    blocks = luma[:MARK_ROWS, :MARK_WIDTH].reshape(2, MARK_BLOCK, MARK_BITS, MARK_BLOCK)
    means = blocks[:, a:b, :, a:b].mean(axis=(1, 3), dtype=np.float64)
    top, bottom = _bits(means[0]), _bits(means[1])
    if top is None or bottom is None or any(t == q for t, q in zip(top, bottom)):
        return None
    return int("".join(map(str, top)), 2)


# --------------------------------------------------------------------------------------------
# Receiver (GStreamer and aiohttp are imported here only, so that senders can import the
# marker code without them)


def _gst():
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstSdp", "1.0")
    gi.require_version("GstWebRTC", "1.0")
    gi.require_version("GstVideo", "1.0")
    from gi.repository import Gst, GstSdp, GstVideo, GstWebRTC

    Gst.init(None)
    return Gst, GstSdp, GstVideo, GstWebRTC


class Session:
    """One webrtcbin answerer and the frames it decoded."""

    GATHER_TIMEOUT = 5.0
    PROMISE_TIMEOUT = 5.0

    def __init__(self, label: str, sid: str, record: "Record") -> None:
        self.Gst, self.GstSdp, self.GstVideo, self.GstWebRTC = _gst()
        self.label = label
        self.id = sid
        self.record = record
        self.pipeline = None
        self.webrtc = None
        self._ice = None  # kept referenced while webrtcbin uses it (PyGObject frees it otherwise)
        self._agent = None
        self._replies: List[Any] = []
        self._linked = False
        self._stride: Optional[int] = None
        self._wire: Dict[int, float] = {}  # RTP timestamp -> last packet out of nicesrc
        self._jb: Dict[int, float] = {}  # RTP timestamp -> last packet into the depayloader
        self._last_ts: Optional[int] = None
        self._au: Optional[tuple] = None

    # -- signalling (runs in a worker thread; webrtcbin answers promises from its own thread)

    def _promise(self, action: str, *args: Any):
        done = threading.Event()
        promise = self.Gst.Promise.new_with_change_func(lambda _p: done.set())
        self.webrtc.emit(action, *args, promise)
        if not done.wait(self.PROMISE_TIMEOUT):
            promise.interrupt()
            raise TimeoutError(f"webrtcbin did not answer {action}")
        reply = promise.get_reply()
        self._replies.append((promise, reply))
        if reply is not None and reply.has_field("error"):
            raise RuntimeError(f"{action}: {reply.get_value('error')}")
        return reply

    def answer(self, offer_sdp: str) -> str:
        Gst, GstSdp, GstWebRTC = self.Gst, self.GstSdp, self.GstWebRTC
        self.pipeline = Gst.Pipeline.new(f"recv-{self.label}")
        webrtc = Gst.ElementFactory.make("webrtcbin", "webrtc")
        if webrtc is None:
            raise RuntimeError("webrtcbin is missing (gstreamer1.0-plugins-bad, -nice)")
        self.webrtc = webrtc
        webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        webrtc.set_property("latency", 0)
        self._ice = webrtc.get_property("ice-agent")
        self._agent = self._ice.get_property("agent")
        self._agent.set_property("upnp", False)  # no SSDP multicast off the machine
        self._ice.set_property("ice-tcp", False)
        if not self._ice.emit("add-local-ip-address", "127.0.0.1"):  # libnice skips loopback
            raise RuntimeError("could not pin ICE to 127.0.0.1")
        webrtc.connect("pad-added", self._on_pad_added)
        self.pipeline.add(webrtc)
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError("receiver pipeline does not start")
        ok, sdp = GstSdp.SDPMessage.new_from_text(offer_sdp)
        if ok != GstSdp.SDPResult.OK:
            raise ValueError("unparsable offer")
        offer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.OFFER, sdp)
        self._promise("set-remote-description", offer)
        reply = self._promise("create-answer", None)
        answer = reply.get_value("answer")
        self._promise("set-local-description", answer)
        deadline = time.monotonic() + self.GATHER_TIMEOUT
        complete = GstWebRTC.WebRTCICEGatheringState.COMPLETE
        while webrtc.get_property("ice-gathering-state") != complete:
            if time.monotonic() > deadline:
                break  # answer with what was gathered
            time.sleep(0.005)
        self.watch_wire()
        answer_sdp = webrtc.get_property("local-description").sdp.as_text()
        self.record.check_candidates(offer_sdp, answer_sdp)
        return answer_sdp

    # -- media (streaming threads)

    def _on_pad_added(self, webrtc, pad) -> None:
        Gst = self.Gst
        if pad.get_direction() != Gst.PadDirection.SRC or self._linked:
            return
        self._linked = True
        depay = Gst.ElementFactory.make("rtph264depay")
        parse = Gst.ElementFactory.make("h264parse")
        dec = Gst.ElementFactory.make("avdec_h264")
        dec.set_property("thread-type", "slice")  # frame threads would hold frames back
        sink = Gst.ElementFactory.make("appsink")
        sink.set_property("sync", False)
        sink.set_property("emit-signals", True)
        sink.set_property("max-buffers", 2)
        sink.set_property("drop", False)
        sink.connect("new-sample", self._on_sample)
        for e in (depay, parse, dec, sink):
            self.pipeline.add(e)
        depay.link(parse)
        parse.link(dec)
        dec.link(sink)
        for e in (sink, dec, parse, depay):
            e.sync_state_with_parent()
        types = Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST
        depay.get_static_pad("sink").add_probe(types, self._on_rtp_in)
        depay.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self._on_au_out)
        pad.link(depay.get_static_pad("sink"))

    def watch_wire(self) -> None:
        """Times the packets nicesrc hands over (SRTP keeps the RTP header in clear)."""
        Gst = self.Gst
        it = self.webrtc.iterate_recurse()
        while True:
            res, elem = it.next()
            if res == Gst.IteratorResult.RESYNC:
                it.resync()
                continue
            if res != Gst.IteratorResult.OK:
                break
            factory = elem.get_factory()
            if factory is not None and factory.get_name() == "nicesrc":
                types = Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST
                elem.get_static_pad("src").add_probe(types, self._on_wire_in)

    def _buffers(self, info) -> List[Any]:
        if info.type & self.Gst.PadProbeType.BUFFER:
            return [info.get_buffer()]
        blist = info.get_buffer_list()
        return [blist.get(i) for i in range(blist.length())] if blist is not None else []

    @staticmethod
    def _rtp(buf) -> Optional[tuple]:
        """(timestamp, marker bit) of an RTP video packet, else None."""
        head = buf.extract_dup(0, 12)
        if len(head) < 12 or head[0] >> 6 != 2 or not 96 <= (head[1] & 0x7F) <= 127:
            return None
        return int.from_bytes(head[4:8], "big"), bool(head[1] & 0x80)

    @staticmethod
    def _remember(table: Dict[int, float], ts: int, now: float) -> None:
        table[ts] = now  # the last packet of the frame wins
        while len(table) > 512:
            table.pop(next(iter(table)))

    def _on_wire_in(self, pad, info):
        now = time.monotonic()
        for buf in self._buffers(info):
            rtp = self._rtp(buf)
            if rtp is not None:
                self._remember(self._wire, rtp[0], now)
        return self.Gst.PadProbeReturn.OK

    def _on_rtp_in(self, pad, info):
        # after the jitterbuffer: depay, parse and decoder then run in this one thread, one
        # access unit after the other
        now = time.monotonic()
        for buf in self._buffers(info):
            rtp = self._rtp(buf)
            if rtp is not None:
                self._remember(self._jb, rtp[0], now)
                if rtp[1]:
                    self._last_ts = rtp[0]
        return self.Gst.PadProbeReturn.OK

    def _on_au_out(self, pad, info):
        self._au = (self._last_ts, time.monotonic(), info.get_buffer().get_size())
        return self.Gst.PadProbeReturn.OK

    def _on_sample(self, sink):
        now = time.monotonic()
        Gst = self.Gst
        sample = sink.emit("pull-sample")
        if sample is None:
            return Gst.FlowReturn.EOS
        ts, depay_out, size = self._au if self._au else (None, None, None)
        self._au = None
        if self._stride is None:
            info = self.GstVideo.VideoInfo.new_from_caps(sample.get_caps())
            self._stride = info.stride[0]
            self.record.size = (info.width, info.height)
        buf = sample.get_buffer()
        rows = buf.extract_dup(0, MARK_ROWS * self._stride)
        luma = np.frombuffer(rows, np.uint8).reshape(MARK_ROWS, self._stride)
        jb = self._jb.get(ts) if ts is not None else None
        wire = self._wire.get(ts) if ts is not None else None
        self.record.add(read_marker(luma), now, depay_out, jb, wire, size)
        return Gst.FlowReturn.OK

    def stop(self) -> None:
        if self.pipeline is not None:
            self.pipeline.set_state(self.Gst.State.NULL)
            self.pipeline = None
        # the ice-agent, agent and promise replies stay referenced for the life of the process:
        # dropping the Python wrappers after webrtcbin is gone trips GObject assertions


class Record:
    """Per-label log of decoded frames: [marker or -1, decoded, depay out, last RTP packet into
    the depayloader, last RTP packet out of nicesrc, access unit bytes]."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.frames: List[List[Any]] = []
        self.unreadable = 0
        self.size: Optional[tuple] = None
        self.sessions = 0
        self.non_local: List[str] = []

    def add(self, marker: Optional[int], t: float, *times: Any) -> None:
        with self.lock:
            if marker is None:
                self.unreadable += 1
            self.frames.append([-1 if marker is None else marker, t, *times])

    def check_candidates(self, *sdps: str) -> None:
        """Remembers any candidate that is not on 127.0.0.1 (there should be none)."""
        for sdp in sdps:
            for line in sdp.splitlines():
                if line.startswith("a=candidate:") and line.split()[4] != "127.0.0.1":
                    self.non_local.append(line.strip())

    def as_json(self) -> Dict[str, Any]:
        with self.lock:
            return {
                "frames": list(self.frames),
                "decoded": len(self.frames),
                "unreadable": self.unreadable,
                "size": self.size,
                "sessions": self.sessions,
                "non_local_candidates": list(self.non_local),
            }


class Receiver:
    def __init__(self) -> None:
        self.records: Dict[str, Record] = {}
        self.sessions: Dict[str, Session] = {}
        self.stopped: List[Session] = []  # kept referenced, see Session.stop
        self._ids = itertools.count(1)
        self.done = asyncio.Event()

    async def whip_post(self, request):
        from aiohttp import web

        label = request.match_info["label"]
        if request.content_type != "application/sdp":
            return web.Response(status=415, text="Content-Type must be application/sdp")
        offer = await request.text()
        record = self.records.setdefault(label, Record())
        sid = f"{label}-{next(self._ids)}"
        session = Session(label, sid, record)
        loop = asyncio.get_running_loop()
        try:
            answer = await asyncio.wait_for(loop.run_in_executor(None, session.answer, offer), 15)
        except Exception as e:
            self.stopped.append(session)
            await loop.run_in_executor(None, session.stop)
            return web.Response(status=400, text=f"could not answer: {e!r}")
        self.sessions[sid] = session
        record.sessions += 1
        return web.Response(
            status=201,
            text=answer,
            content_type="application/sdp",
            headers={"Location": f"/whip/{label}/{sid}", "ETag": f'"{sid}"'},
        )

    async def whip_delete(self, request):
        from aiohttp import web

        session = self.sessions.pop(request.match_info["sid"], None)
        if session is None:
            return web.Response(status=404, text="no such session")
        self.stopped.append(session)
        await asyncio.get_running_loop().run_in_executor(None, session.stop)
        return web.Response(status=200)

    async def whip_patch(self, request):
        from aiohttp import web

        return web.Response(status=405, headers={"Allow": "DELETE"})

    async def results(self, request):
        from aiohttp import web

        record = self.records.get(request.match_info["label"])
        if record is None:
            return web.json_response({"error": "no such label"}, status=404)
        return web.json_response(record.as_json())

    async def shutdown(self, request):
        from aiohttp import web

        self.done.set()
        return web.Response(status=200)

    async def stop_all(self) -> None:
        loop = asyncio.get_running_loop()
        for session in list(self.sessions.values()):
            self.stopped.append(session)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(loop.run_in_executor(None, session.stop), 5)
        self.sessions.clear()


async def serve(port: int, lifetime: float) -> None:
    from aiohttp import web

    _gst()
    receiver = Receiver()
    app = web.Application(client_max_size=1 << 20)
    app.router.add_post("/whip/{label}", receiver.whip_post)
    app.router.add_delete("/whip/{label}/{sid}", receiver.whip_delete)
    app.router.add_patch("/whip/{label}/{sid}", receiver.whip_patch)
    app.router.add_get("/results/{label}", receiver.results)
    app.router.add_post("/shutdown", receiver.shutdown)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, receiver.done.set)
    print(f"READY http://127.0.0.1:{bound}", flush=True)
    try:
        # a lifetime bound, so that an orphaned receiver never lingers
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(receiver.done.wait(), lifetime)
    finally:
        await receiver.stop_all()
        await asyncio.wait_for(runner.cleanup(), 10)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument(
        "--lifetime", type=float, default=1800, help="exit after this many seconds at most"
    )
    args = parser.parse_args(argv)
    code = 0
    try:
        asyncio.run(serve(args.port, args.lifetime))
    except Exception as e:
        print(f"receiver: {e!r}", file=sys.stderr, flush=True)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # GStreamer/libnice threads may linger after the pipelines stopped; nothing is left to do
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
