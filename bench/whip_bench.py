#!/usr/bin/python3
"""whipsink vs an aiortc WHIP publisher: sender CPU per frame and push -> decoded latency.

    GST_PLUGIN_PATH=build/gst /usr/bin/python3 bench/whip_bench.py [--duration 10] [--runs 3] \
        [--stages]

One invocation runs, for each size (512x512 and 1280x720 by default, 30 fps), two publishers
one after the other, ``--runs`` times taking turns (the table shows medians; the CPU ratio is
the median of each run's ratio, since a run's load from elsewhere on the machine moves both
senders of a pair alike), against the same receiver (bench/whip_receiver.py: webrtcbin latency=0,
avdec_h264, on 127.0.0.1), each in its own process:

* whipsink: ``framebridgesrc queue-mode=latest ! whipsink`` (encoder chosen by whipsink), fed
  by a Python loop pushing pre-rendered RGB frames at 30 fps; push time = just before
  ``push-frame`` is emitted.
* aiortc (baseline): ``drtc_peers.WhipPublisher`` (libx264 through PyAV, with drtc_peers'
  keyframe patch) with a track handing the same frames over at 30 fps; push time = when
  ``recv()`` returns the frame to aiortc.

Both send a keyframe every ``--gop`` frames (default fps / 2, the short GOP Daydream's
segmenter wants and whipsink's own), so they produce the same kind of stream.

Every frame carries its number as a block marker (whip_receiver.stamp_marker); the receiver
reads it back from the decoded picture and records ``time.monotonic()``. CLOCK_MONOTONIC is
shared by the processes, so receiver and sender times compare directly. CPU is the sender
process's user+system time over the measured window, divided by the frames of that window
that were decoded. ICE stays on 127.0.0.1 (UPnP off, no STUN); nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ctypes.util
import fractions
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests" / "interop"))

from whip_receiver import MARK_ROWS, read_marker, stamp_marker  # noqa: E402

LOOP = 60  # pre-rendered frames; the picture repeats exactly after this many
SPEED = 4  # pixels per frame the pattern scrolls
TAIL = 1.0  # seconds of pushing after the window, so that its last frames arrive
CONNECT_TIMEOUT = 20.0
BARS = [
    (235, 235, 235),
    (235, 235, 16),
    (16, 235, 235),
    (16, 235, 16),
    (235, 16, 235),
    (235, 16, 16),
    (16, 16, 235),
    (40, 40, 40),
]
STAGES_WHIPSINK = ["src", "enc in", "enc out", "pay", "wire out"]
STAGES_RECEIVER = ["wire in", "jb out", "depay out", "decoded"]
SRC_TO_DECODED = "src->dec"


def render_frames(width: int, height: int, count: int = LOOP) -> List[np.ndarray]:
    """``count`` RGB frames of scrolling noisy colour bars and a bouncing box; frame i+count
    equals frame i. The top MARK_ROWS rows are left for the marker."""
    period = SPEED * count
    rng = np.random.default_rng(20240605)
    x = np.arange(width + period)
    bars = np.array(BARS, np.int16)[(x % period) * len(BARS) // period]
    noise = rng.integers(-14, 15, (height, period, 1), dtype=np.int16)
    noise = np.tile(noise, (1, (width + period) // period + 1, 1))[:, : width + period]
    texture = np.clip(bars[None, :, :] + noise, 0, 255).astype(np.uint8)
    box = max(16, min(width, height) // 6) // 2 * 2
    span = height - MARK_ROWS - box
    frames = []
    for i in range(count):
        off = (i * SPEED) % period
        img = np.ascontiguousarray(texture[:, off : off + width])
        phase = 2 * i / count
        y = MARK_ROWS + int(span * (phase if phase <= 1 else 2 - phase))
        bx = (width - box) // 2
        img[y : y + box, bx : bx + box] = 255
        img[:MARK_ROWS] = 128
        frames.append(img)
    return frames


class Pacer:
    """Ticks at ``fps``; a late tick moves the schedule instead of bursting to catch up."""

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self.next = time.monotonic()

    def delay(self) -> float:
        return max(0.0, self.next - time.monotonic())

    def advance(self) -> None:
        self.next += self.period
        now = time.monotonic()
        if self.next < now:
            self.next = now


def _comm(tid: int) -> str:
    try:
        return Path(f"/proc/self/task/{tid}/comm").read_text().strip()
    except OSError:
        return "?"


def cpu_snapshot() -> Dict[str, Any]:
    """Process user+system seconds and per-thread seconds with thread names."""
    proc = psutil.Process()
    times = proc.cpu_times()
    threads = {t.id: [t.user_time + t.system_time, _comm(t.id)] for t in proc.threads()}
    host = psutil.cpu_times()
    return {
        "t": time.monotonic(),
        "cpu": times.user + times.system,
        "threads": threads,
        "host_busy": sum(host) - host.idle - getattr(host, "iowait", 0.0),
    }


def cpu_by_thread(
    a: Dict[str, Any], b: Dict[str, Any], labels: Dict[int, str], names: Dict[str, str]
) -> Dict[str, float]:
    """CPU seconds per thread group between two snapshots: threads in ``labels`` (by id) by
    that label, the others by thread name, renamed by ``names``. A thread inherits its
    creator's name, so encoder worker threads carry the name of the thread that made them."""
    out: Dict[str, float] = {}
    before = {int(k): v for k, v in a["threads"].items()}
    for tid, (sec, comm) in b["threads"].items():
        tid = int(tid)
        spent = sec - before.get(tid, [0.0])[0]
        name = labels.get(tid) or names.get(comm, comm)
        out[name] = out.get(name, 0.0) + spent
    return out


# --------------------------------------------------------------------------------------------
# Sender A: framebridgesrc ! whipsink


class WhipsinkStages:
    """Pad probes (only with --stages): per frame number, when it left framebridgesrc, entered
    and left the encoder, left the payloader and reached nicesink (last packet of the frame)."""

    def __init__(self, Gst, width: int) -> None:
        self.Gst = Gst
        self.width = width
        self.times: Dict[int, Dict[str, float]] = {}
        self.cur: Optional[int] = None
        self.ts_frame: Dict[int, int] = {}
        self.attached: set = set()
        self.stream_tid: Optional[int] = None

    def _types(self):
        return self.Gst.PadProbeType.BUFFER | self.Gst.PadProbeType.BUFFER_LIST

    def _buffers(self, info) -> Iterable[Any]:
        if info.type & self.Gst.PadProbeType.BUFFER:
            return [info.get_buffer()]
        blist = info.get_buffer_list()
        return [blist.get(i) for i in range(blist.length())] if blist is not None else []

    def _mark(self, stage: str, frame: Optional[int], now: float) -> None:
        if frame is not None:
            self.times.setdefault(frame, {}).setdefault(stage, now)

    def on_src(self, pad, info):
        now = time.monotonic()
        self.stream_tid = threading.get_native_id()
        buf = info.get_buffer()
        stride = (self.width * 3 + 3) // 4 * 4
        rows = np.frombuffer(buf.extract_dup(0, MARK_ROWS * stride), np.uint8)
        green = rows.reshape(MARK_ROWS, stride)[:, : self.width * 3].reshape(
            MARK_ROWS, self.width, 3
        )[:, :, 1]
        frame = read_marker(green)
        # a repeat of the last frame (no new push by the tick) is not timed again
        self.cur = None if frame is None or frame in self.times else frame
        self._mark("src", self.cur, now)
        return self.Gst.PadProbeReturn.OK

    def on_enc_in(self, pad, info):
        self._mark("enc in", self.cur, time.monotonic())
        return self.Gst.PadProbeReturn.OK

    def on_enc_out(self, pad, info):
        self._mark("enc out", self.cur, time.monotonic())
        return self.Gst.PadProbeReturn.OK

    def _rtp_ts(self, buf) -> Optional[int]:
        head = buf.extract_dup(0, 12)
        if len(head) < 12 or head[0] >> 6 != 2 or not 96 <= (head[1] & 0x7F) <= 127:
            return None
        return int.from_bytes(head[4:8], "big")

    def on_pay(self, pad, info):
        now = time.monotonic()
        for buf in self._buffers(info):
            ts = self._rtp_ts(buf)
            if ts is not None and self.cur is not None:
                self.ts_frame[ts] = self.cur
                self.times[self.cur]["pay"] = now  # last packet
        return self.Gst.PadProbeReturn.OK

    def on_wire(self, pad, info):
        now = time.monotonic()
        for buf in self._buffers(info):
            ts = self._rtp_ts(buf)  # SRTP leaves the RTP header in clear
            frame = self.ts_frame.get(ts) if ts is not None else None
            if frame is not None:
                self.times[frame]["wire out"] = now  # last packet
        return self.Gst.PadProbeReturn.OK

    def attach_encoder(self, enc) -> None:
        Gst = self.Gst
        enc.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self.on_enc_in)
        enc.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self.on_enc_out)

    def attach_bin(self, src, sink) -> None:
        """framebridgesrc's pad at once; payloader and nicesink once whipsink built them."""
        Gst = self.Gst
        if "src" not in self.attached:
            src.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self.on_src)
            self.attached.add("src")
        it = sink.iterate_recurse()
        while True:
            res, elem = it.next()
            if res == Gst.IteratorResult.RESYNC:
                it.resync()
                continue
            if res != Gst.IteratorResult.OK:
                break
            name = elem.get_factory().get_name() if elem.get_factory() else ""
            if name == "rtph264pay" and "pay" not in self.attached:
                elem.get_static_pad("src").add_probe(self._types(), self.on_pay)
                self.attached.add("pay")
            elif name == "nicesink" and "wire" not in self.attached:
                elem.get_static_pad("sink").add_probe(self._types(), self.on_wire)
                self.attached.add("wire")


def _exit_watchdog(seconds: float) -> threading.Timer:
    """Ends this process if shutting down hangs (e.g. a state change that never returns)."""

    def bail() -> None:
        print("sender: shutdown hung; exiting", file=sys.stderr, flush=True)
        os._exit(3)

    timer = threading.Timer(seconds, bail)
    timer.daemon = True
    return timer


def send_whipsink(args: argparse.Namespace) -> Dict[str, Any]:
    import gi

    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst

    Gst.init(None)
    for factory in ("framebridgesrc", "whipsink"):
        if Gst.ElementFactory.find(factory) is None:
            raise RuntimeError(f"{factory} not found: set GST_PLUGIN_PATH=build/gst")
    width, height = args.size
    frames = render_frames(width, height)
    pipe = Gst.parse_launch(
        f"framebridgesrc name=src queue-mode=latest fallback-pattern=black format=RGB "
        f"width={width} height={height} framerate={args.src_fps or args.fps}/1 ! "
        f"whipsink name=sink whip-endpoint={args.endpoint} ice-local-addresses=127.0.0.1 "
        f"bitrate={args.bitrate} timeout=10"
    )
    src, sink = pipe.get_by_name("src"), pipe.get_by_name("sink")
    stages = WhipsinkStages(Gst, width) if args.stages else None
    info: Dict[str, Any] = {"encoder": None, "states": []}

    def on_encoder(_sink, encoder) -> None:
        info["encoder"] = encoder.get_factory().get_name()
        for name in ("key-int-max", "gop-size"):  # x264enc, nvh264enc/openh264enc
            if encoder.find_property(name) is not None:
                encoder.set_property(name, args.gop)
        if stages is not None:
            stages.attach_encoder(encoder)

    sink.connect("encoder-setup", on_encoder)
    bus = pipe.get_bus()
    pushes: Dict[int, float] = {}
    snaps: List[Dict[str, Any]] = []
    refused = 0
    try:
        if pipe.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError("pipeline does not start")
        pacer = Pacer(args.fps)
        deadline = time.monotonic() + CONNECT_TIMEOUT
        window: Optional[Tuple[float, float]] = None
        n = 0
        while True:
            time.sleep(pacer.delay())
            pacer.advance()
            while True:
                msg = bus.pop()
                if msg is None:
                    break
                if msg.type == Gst.MessageType.ERROR:
                    err, debug = msg.parse_error()
                    raise RuntimeError(f"{err.message} ({debug})")
                st = msg.get_structure()
                if msg.type == Gst.MessageType.ELEMENT and st and st.get_name() == "whip-state":
                    state = st.get_string("state")
                    info["states"].append(state)
                    if state == "connected" and window is None:
                        start = time.monotonic() + args.warmup
                        window = (start, start + args.duration)
                    elif state in ("failed", "reconnecting") and window is not None:
                        raise RuntimeError(f"whipsink {state} during the run")
            now = time.monotonic()
            if window is None:
                if now > deadline:
                    raise TimeoutError(f"whipsink not connected: states {info['states']}")
            else:
                if stages is not None and len(stages.attached) < 3:
                    stages.attach_bin(src, sink)
                if not snaps and now >= window[0]:
                    snaps.append(cpu_snapshot())
                elif len(snaps) == 1 and now >= window[1]:
                    snaps.append(cpu_snapshot())
                elif len(snaps) == 2 and now >= window[1] + TAIL:
                    break
            frame = frames[n % LOOP]
            stamp_marker(frame, n)
            data = GLib.Bytes.new(frame.tobytes())
            pushes[n] = time.monotonic()
            res = src.emit("push-frame", "RGB", width, height, data, 0)
            if int(res) != 0:
                refused += 1
            n += 1
        stats = sink.get_property("stats")
        info["bytes-sent"] = stats.get_value("bytes-sent")
        info["frames-sent"] = stats.get_value("frames-sent")
        info["src-stats"] = src.get_property("stats").to_string()
    finally:
        watchdog = _exit_watchdog(15)
        watchdog.start()
        pipe.set_state(Gst.State.NULL)
        watchdog.cancel()
    labels = {threading.main_thread().native_id: "python push loop"}
    names = {"src:src": "src:src (streaming + encoder threads)"}
    if stages is not None and stages.stream_tid is not None:
        labels[stages.stream_tid] = "streaming thread"
        names = {"src:src": "encoder threads (src:src)"}
    return {
        "sender": "whipsink",
        "encoder": info["encoder"],
        "pushes": pushes,
        "refused": refused,
        "snaps": snaps,
        "threads": cpu_by_thread(snaps[0], snaps[1], labels, names),
        "stages": stages.times if stages else None,
        "info": info,
    }


# --------------------------------------------------------------------------------------------
# Sender B: aiortc (drtc_peers.WhipPublisher)


def send_aiortc(args: argparse.Namespace) -> Dict[str, Any]:
    return asyncio.run(asyncio.wait_for(_send_aiortc(args), CONNECT_TIMEOUT + args.total + 30))


def _set_aiortc_preset(h264, preset: str, gop: int) -> None:
    """drtc_peers' encoder settings (aiortc 1.4's plus the GOP) with an x264 preset."""
    import av

    def create_encoder_context(codec_name: str, width: int, height: int, bitrate: int):
        if codec_name == "h264_omx":
            raise RuntimeError("h264_omx skipped")
        codec = av.CodecContext.create(codec_name, "w")
        codec.width, codec.height, codec.bit_rate = width, height, bitrate
        codec.pix_fmt = "yuv420p"
        codec.framerate = fractions.Fraction(h264.MAX_FRAME_RATE, 1)
        codec.time_base = fractions.Fraction(1, h264.MAX_FRAME_RATE)
        codec.options = {
            "profile": "baseline",
            "level": "31",
            "tune": "zerolatency",
            "preset": preset,
        }
        codec.gop_size = gop
        codec.open()
        return codec, False

    h264.create_encoder_context = create_encoder_context


async def _send_aiortc(args: argparse.Namespace) -> Dict[str, Any]:
    import av
    import av.logging
    import drtc_peers
    from aiortc.codecs import h264

    # no libx264 banner per encoder (encode() runs in a worker thread, where FFmpeg's own
    # logger prints, so its level is set too)
    av.logging.set_level(av.logging.ERROR)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("avutil") or "libavutil.so").av_log_set_level(16)
    from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

    width, height = args.size
    frames = render_frames(width, height)
    pushes: Dict[int, float] = {}
    encode_threads: set = set()
    encode_times: List[Tuple[float, float]] = []

    class MarkedTrack(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self.pacer = Pacer(args.fps)
            self.n = 0
            self.t0: Optional[float] = None

        async def recv(self):
            if self.readyState != "live":
                raise MediaStreamError
            await asyncio.sleep(self.pacer.delay())
            self.pacer.advance()
            frame = frames[self.n % LOOP]
            stamp_marker(frame, self.n)
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            now = time.monotonic()
            if self.t0 is None:
                self.t0 = now
            vf.pts = round((now - self.t0) * drtc_peers.VIDEO_CLOCK_RATE)
            vf.time_base = drtc_peers.VIDEO_TIME_BASE
            pushes[self.n] = time.monotonic()
            self.n += 1
            return vf

    # drtc_peers' keyframe patch first (WhipPublisher sets the same GOP), then a timing wrapper
    # around it. The RGB -> I420 conversion PyAV would do inside encode() is done here, the
    # same way, so that it can be timed apart.
    drtc_peers.install_h264_keyframe_patch(args.gop)
    if args.aiortc_preset:
        _set_aiortc_preset(h264, args.aiortc_preset, args.gop)
    inner = h264.H264Encoder.encode

    def encode(self, frame, force_keyframe=False):
        t0 = time.perf_counter()
        if frame.format.name != "yuv420p":
            yuv = frame.reformat(format="yuv420p")
            yuv.pts, yuv.time_base = frame.pts, frame.time_base
            frame = yuv
        t1 = time.perf_counter()
        result = inner(self, frame, force_keyframe)
        encode_times.append((t1 - t0, time.perf_counter() - t1))
        encode_threads.add(threading.get_native_id())
        return result

    h264.H264Encoder.encode = encode
    restore = drtc_peers.pin_host_addresses(["127.0.0.1"])
    track = MarkedTrack()
    pub = drtc_peers.WhipPublisher(track, keyframe_interval=args.gop)
    snaps: List[Dict[str, Any]] = []
    info: Dict[str, Any] = {}
    try:
        await asyncio.wait_for(pub.start(args.endpoint), CONNECT_TIMEOUT)
        await pub.wait_connected(CONNECT_TIMEOUT)
        info["codec"] = pub.negotiated_codec
        await asyncio.sleep(args.warmup)
        first_encode = len(encode_times)
        snaps.append(cpu_snapshot())
        await asyncio.sleep(args.duration)
        snaps.append(cpu_snapshot())
        window_encodes = encode_times[first_encode:]
        await asyncio.sleep(TAIL)
        with contextlib.suppress(Exception):
            stats = await asyncio.wait_for(pub.pc.getStats(), 5)
            for s in stats.values():
                if s.type == "outbound-rtp":
                    info["bytes-sent"] = s.bytesSent
                    info["frames-sent"] = s.packetsSent
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pub.stop(), 10)
        restore()
    labels = {threading.main_thread().native_id: "asyncio loop (track, RTP, SRTP)"}
    for tid in encode_threads:
        labels[tid] = "encode() executor"
    names = {"python3": "libx264 threads (python3)"}
    conv = [c for c, _ in window_encodes]
    enc = [e for _, e in window_encodes]
    info["convert-ms"] = 1000 * statistics.fmean(conv) if conv else None
    info["encode-ms"] = 1000 * statistics.fmean(enc) if enc else None
    return {
        "sender": "aiortc",
        "encoder": f"libx264 preset {args.aiortc_preset or 'default (medium)'}",
        "pushes": pushes,
        "refused": 0,
        "snaps": snaps,
        "threads": cpu_by_thread(snaps[0], snaps[1], labels, names),
        "stages": None,
        "info": info,
    }


# --------------------------------------------------------------------------------------------
# Orchestration


def _size(text: str) -> Tuple[int, int]:
    w, h = (int(v) for v in text.lower().split("x"))
    if w < 512 or h < 2 * MARK_ROWS or w % 2 or h % 2:
        raise argparse.ArgumentTypeError(f"need even sizes of at least 512x128, got {text}")
    return w, h


def _http(url: str, method: str = "GET", timeout: float = 10.0) -> Any:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        body = resp.read()
    return json.loads(body) if body.startswith(b"{") else body


def _stop(proc: subprocess.Popen, grace: float = 10.0, wait_first: bool = True) -> None:
    """Waits for a child (``wait_first``), then SIGTERM, then SIGKILL (its process group)."""
    if proc.poll() is not None:
        return
    for sig in ((None,) if wait_first else ()) + (signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


class ReceiverProcess:
    def __init__(self, env: Dict[str, str], lifetime: float) -> None:
        cmd = [sys.executable, str(HERE / "whip_receiver.py"), "--lifetime", str(int(lifetime))]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, text=True, env=env, start_new_session=True
        )
        self.url = self._wait_ready(20.0)

    def _wait_ready(self, timeout: float) -> str:
        result: List[str] = []

        def read() -> None:
            line = self.proc.stdout.readline()
            result.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if not result or not result[0].startswith("READY "):
            self.close()
            raise RuntimeError(f"receiver did not start: {result!r}")
        return result[0].split()[1]

    def results(self, label: str) -> Dict[str, Any]:
        return _http(f"{self.url}/results/{label}")

    def close(self) -> None:
        if self.proc.poll() is None and getattr(self, "url", None):
            with contextlib.suppress(Exception):
                _http(f"{self.url}/shutdown", "POST", timeout=5)
        _stop(self.proc)


def run_sender(
    kind: str, endpoint: str, size: Tuple[int, int], args: argparse.Namespace, env: Dict
) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="whip-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--role",
            kind,
            "--endpoint",
            endpoint,
            "--size",
            f"{size[0]}x{size[1]}",
            "--fps",
            str(args.fps),
            "--warmup",
            str(args.warmup),
            "--duration",
            str(args.duration),
            "--bitrate",
            str(args.bitrate),
            "--aiortc-preset",
            args.aiortc_preset or "",
            "--src-fps",
            str(args.src_fps),
            "--gop",
            str(args.gop),
            "--out",
            str(out),
        ] + (["--stages"] if args.stages else [])
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        limit = CONNECT_TIMEOUT + args.warmup + args.duration + TAIL + 40
        try:
            proc.wait(limit)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{kind} sender did not finish in {limit:.0f} s")
        finally:
            _stop(proc, 5, wait_first=False)  # no-op once it exited
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"{kind} sender failed (exit {proc.returncode})")
        return json.loads(out.read_text())


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values), q))


def analyse(sent: Dict[str, Any], received: Dict[str, Any]) -> Dict[str, Any]:
    pushes = {int(k): v for k, v in sent["pushes"].items()}
    w0, w1 = sent["snaps"][0]["t"], sent["snaps"][1]["t"]
    span = w1 - w0
    in_window = {n: t for n, t in pushes.items() if w0 <= t < w1}
    first: Dict[int, List[Any]] = {}
    decoded_in_window = 0
    au_bytes = 0
    for marker, t_dec, *rest in received["frames"]:
        if w0 <= t_dec < w1:
            decoded_in_window += 1
            au_bytes += rest[-1] or 0
        if marker >= 0 and marker not in first:
            first[marker] = [t_dec, *rest]
    lat = []
    stage_times: Dict[str, List[float]] = {
        s: [] for s in STAGES_WHIPSINK + STAGES_RECEIVER + [SRC_TO_DECODED]
    }
    sender_stages = {int(k): v for k, v in (sent.get("stages") or {}).items()}
    for n, t_push in in_window.items():
        rec = first.get(n)
        if rec is None:
            continue
        t_dec, t_depay, t_jb, t_wire, _size = rec
        lat.append(1000 * (t_dec - t_push))
        for name, t in zip(STAGES_RECEIVER, (t_wire, t_jb, t_depay, t_dec)):
            if t is not None:
                stage_times[name].append(1000 * (t - t_push))
        for name, t in sender_stages.get(n, {}).items():
            stage_times[name].append(1000 * (t - t_push))
        if "src" in sender_stages.get(n, {}):
            stage_times[SRC_TO_DECODED].append(1000 * (t_dec - sender_stages[n]["src"]))
    unreadable = sum(1 for f in received["frames"] if f[0] < 0 and w0 <= f[1] < w1)
    cpu = sent["snaps"][1]["cpu"] - sent["snaps"][0]["cpu"]
    delivered = len(lat)
    return {
        "sender": sent["sender"],
        "encoder": sent["encoder"],
        "p50": _pct(lat, 50),
        "p90": _pct(lat, 90),
        "p99": _pct(lat, 99),
        "cpu_ms": 1000 * cpu / delivered if delivered else float("nan"),
        "cpu_pct": 100 * cpu / span,
        "host_pct": 100 * (sent["snaps"][1]["host_busy"] - sent["snaps"][0]["host_busy"]) / span,
        "fps_tx": len(in_window) / span,
        "fps_rx": decoded_in_window / span,
        "lost": len(in_window) - delivered,
        "unreadable": unreadable,
        "kbps": 8 * au_bytes / span / 1000,
        "threads": {k: 1000 * v / delivered for k, v in sent["threads"].items()}
        if delivered
        else {},
        "stages": {k: _pct(v, 50) for k, v in stage_times.items() if v},
        "info": sent["info"],
    }


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b and b == b and a == a else "-"


def print_report(
    per_size: List[Tuple[str, List[Tuple[Dict, Dict]]]], args: argparse.Namespace
) -> None:
    """``per_size``: for each size, (aiortc, whipsink) results of each run."""
    results = [
        (dim, combine([b for b, _ in pairs]), combine([o for _, o in pairs]))
        for dim, pairs in per_size
    ]
    # CPU ratio: the median of the runs' own ratios (each pair ran back to back)
    cpu_ratio = {
        dim: _median(o["cpu_ms"] / b["cpu_ms"] for b, o in pairs) for dim, pairs in per_size
    }
    print(
        f"whipsink vs aiortc WHIP publisher: {args.fps} fps, {args.duration:g} s measured after "
        f"{args.warmup:g} s warm-up, one receiver for both (webrtcbin latency=0, avdec_h264), "
        f"127.0.0.1; {args.runs} run(s) per sender and size, the senders taking turns"
    )
    print(
        "latency: push -> decoded at the receiver, ms (time.monotonic(): CLOCK_MONOTONIC, "
        "shared by the processes);"
    )
    print(
        "CPU: sender process user+system in the window / frames of the window decoded; "
        "CPU % (sender) and host % (whole machine): of one core;"
    )
    print(
        "figures: the median over the runs; CPU ratio: the median of each run's "
        "whipsink / aiortc ratio; lost, unread: summed over the runs"
    )
    print(
        f"fps: decoded (rx) and pushed (tx); kbit/s: H.264 decoded; {psutil.cpu_count()} cores; "
        "ratios: whipsink / aiortc"
    )
    encoders = []
    for dim, base, other in results[:1]:
        src_fps = args.src_fps or args.fps
        encoders = [
            f"whipsink: {other['encoder']} ({args.bitrate} kbit/s, framebridgesrc {src_fps} fps)",
            base["encoder"],
        ]
    print("encoders: " + "; aiortc: ".join(encoders) + f"; a keyframe every {args.gop} frames")
    print(
        f"{'size':<10} {'sender':<17} {'p50':>6} {'p90':>6} {'p99':>6} {'CPU ms/f':>8} "
        f"{'fps rx':>6} {'p50 ratio':>9} {'p99 ratio':>9} {'CPU ratio':>9}"
    )
    for dim, base, other in results:
        for r in (base, other):
            name = "aiortc (baseline)" if r is base else "whipsink"
            print(
                f"{dim:<10} {name:<17} {r['p50']:6.1f} {r['p90']:6.1f} {r['p99']:6.1f} "
                f"{r['cpu_ms']:8.2f} {r['fps_rx']:6.1f} "
                f"{_ratio(r['p50'], base['p50']):>9} {_ratio(r['p99'], base['p99']):>9} "
                f"{'1.00x' if r is base else f'{cpu_ratio[dim]:.2f}x':>9}"
            )
    print()
    print(
        f"{'size':<10} {'sender':<17} {'CPU %':>6} {'host %':>6} {'fps tx':>6} {'lost':>5} "
        f"{'unread':>6} {'kbit/s':>6}"
    )
    for dim, base, other in results:
        for r in (base, other):
            name = "aiortc (baseline)" if r is base else "whipsink"
            print(
                f"{dim:<10} {name:<17} {r['cpu_pct']:6.1f} {r['host_pct']:6.1f} "
                f"{r['fps_tx']:6.1f} {r['lost']:5d} {r['unreadable']:6d} {r['kbps']:6.0f}"
            )
    print()
    small = [other for dim, _, other in results if dim == "512x512"]
    if small:
        p50 = small[0]["p50"]
        verdict = "met" if p50 <= 10 else "missed"
        print(f"target: whipsink p50 <= 10 ms at 512x512 on loopback: {p50:.1f} ms -> {verdict}")
    verdict = "met" if all(r <= 0.25 for r in cpu_ratio.values()) else "missed"
    listed = ", ".join(f"{dim} {r:.2f}" for dim, r in cpu_ratio.items())
    print(f"target: whipsink CPU <= 1/4 of aiortc's (median of the runs): {listed} -> {verdict}")
    for dim, pairs in per_size:
        each = " ".join(f"{o['cpu_ms'] / b['cpu_ms']:.2f}" for b, o in pairs)
        print(f"  CPU ratio of each run, {dim}: {each}")
    print()
    print("CPU by thread, ms per delivered frame (top 4):")
    for dim, base, other in results:
        for r in (base, other):
            top = sorted(r["threads"].items(), key=lambda kv: -kv[1])[:4]
            listed = ", ".join(f"{name} {ms:.2f}" for name, ms in top)
            print(f"  {dim:<10} {r['sender']:<8}  {listed}")
    for dim, base, _ in results:
        info = base["info"]
        if info.get("encode-ms") is not None:
            print(
                f"  {dim:<10} aiortc    encode() wall time per frame: RGB->I420 "
                f"{info['convert-ms']:.2f} ms, libx264 + packetize {info['encode-ms']:.2f} ms"
            )
    if args.stages:
        names = STAGES_WHIPSINK + STAGES_RECEIVER + [SRC_TO_DECODED]
        print()
        print(
            "stages: p50 ms from push until the frame (its last RTP packet for pay/wire/jb) "
            "reached each point; src->dec: from leaving framebridgesrc to decoded"
        )
        print(f"{'size':<10} {'sender':<8} " + " ".join(f"{n:>9}" for n in names))
        for dim, base, other in results:
            for r in (base, other):
                cells = []
                for n in names:
                    v = r["stages"].get(n)
                    cells.append(f"{v:9.2f}" if v is not None else f"{'-':>9}")
                print(f"{dim:<10} {r['sender']:<8} " + " ".join(cells))


def _median(values: Iterable[float]) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def combine(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One sender's runs at one size as one result: the median of each figure (sums for the
    frame counts), so that one disturbed run does not decide the table."""
    out = dict(runs[0])
    for key in ("p50", "p90", "p99", "cpu_ms", "cpu_pct", "host_pct", "fps_tx", "fps_rx", "kbps"):
        out[key] = _median(r[key] for r in runs)
    for key in ("lost", "unreadable"):
        out[key] = sum(r[key] for r in runs)
    for key in ("threads", "stages"):
        names = {name for r in runs for name in r[key]}
        out[key] = {name: _median(r[key].get(name, 0.0) for r in runs) for name in names}
    info = dict(out["info"])
    for key in ("convert-ms", "encode-ms"):
        if info.get(key) is not None:
            info[key] = _median(r["info"].get(key) or float("nan") for r in runs)
    out["info"] = info
    return out


def bench(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    plugin_path = Path(args.plugin_path).resolve()
    if plugin_path.is_dir():
        existing = env.get("GST_PLUGIN_PATH_1_0") or env.get("GST_PLUGIN_PATH")
        env["GST_PLUGIN_PATH_1_0"] = os.pathsep.join(
            [str(plugin_path)] + ([existing] if existing else [])
        )
    per_run = CONNECT_TIMEOUT + args.warmup + args.duration + TAIL + 60
    receiver = ReceiverProcess(env, lifetime=len(args.sizes) * 2 * args.runs * per_run + 60)
    results = []
    try:
        for w, h in args.sizes:
            dim = f"{w}x{h}"
            pairs = []
            for run in range(1, args.runs + 1):
                out = {}
                # alternate who goes first, so that a drift in the machine's load or clock
                # speed over the run does not always favour the same sender
                kinds = ("whipsink", "aiortc") if run % 2 else ("aiortc", "whipsink")
                for kind in kinds:
                    label = f"{kind}-{dim}-{run}"
                    sent = run_sender(kind, f"{receiver.url}/whip/{label}", (w, h), args, env)
                    received = receiver.results(label)
                    non_local = received.get("non_local_candidates")
                    if non_local:
                        print(f"warning: non-loopback candidates in {label}: {non_local}")
                    if received.get("sessions", 1) != 1:
                        print(f"warning: {label} used {received['sessions']} WHIP sessions")
                    out[kind] = analyse(sent, received)
                    r = out[kind]
                    print(
                        f"# {label}: p50 {r['p50']:.1f} ms, CPU {r['cpu_ms']:.2f} ms/frame, "
                        f"{r['fps_rx']:.1f} fps decoded",
                        file=sys.stderr,
                        flush=True,
                    )
                pairs.append((out["aiortc"], out["whipsink"]))
            results.append((dim, pairs))
    finally:
        receiver.close()
    print_report(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=lambda s: [_size(v) for v in s.split(",")],
        default=[(512, 512), (1280, 720)],
        help="comma-separated WxH list (default 512x512,1280x720)",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds after connecting")
    parser.add_argument("--fps", type=int, default=30, help="frames pushed per second")
    parser.add_argument(
        "--src-fps",
        type=int,
        default=0,
        help="framebridgesrc framerate for whipsink (default: --fps)",
    )
    parser.add_argument(
        "--bitrate",
        type=int,
        default=1000,
        help="whipsink bitrate in kbit/s (default 1000: aiortc's starting rate)",
    )
    parser.add_argument(
        "--stages", action="store_true", help="also time whipsink's stages (pad probes)"
    )
    parser.add_argument(
        "--aiortc-preset",
        help="x264 preset for the aiortc sender (default: aiortc's own, i.e. libx264's medium)",
    )
    parser.add_argument(
        "--gop",
        type=int,
        default=0,
        help="frames between keyframes, for both senders (default fps / 2: the short GOP "
        "Daydream's segmenter wants, and whipsink's own)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs per sender and size, taking turns; the table shows medians (default 3)",
    )
    parser.add_argument("--plugin-path", default=str(REPO / "build" / "gst"))
    parser.add_argument("--json", help="also write the results here")
    # internal: one sender process
    parser.add_argument("--role", choices=["whipsink", "aiortc"], help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=_size, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600 or args.warmup < 0:
        parser.error("--duration must be in (0, 600] and --warmup >= 0")
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be in [1, 20]")
    args.total = args.warmup + args.duration + TAIL
    args.gop = args.gop or max(args.fps // 2, 1)
    if args.role is None:

        def terminate(signum, frame):
            raise KeyboardInterrupt  # unwinds through the finally blocks that stop children

        signal.signal(signal.SIGTERM, terminate)
        signal.signal(signal.SIGINT, terminate)
        try:
            return bench(args)
        except (RuntimeError, OSError) as e:
            print(f"whip_bench: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("whip_bench: interrupted", file=sys.stderr)
            return 130
    code = 0
    try:
        result = (send_whipsink if args.role == "whipsink" else send_aiortc)(args)
        Path(args.out).write_text(json.dumps(result))
    except Exception as e:
        print(f"{args.role} sender: {e!r}", file=sys.stderr, flush=True)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # GStreamer / aiortc threads may linger; the result is written


if __name__ == "__main__":
    sys.exit(main())
