#!/usr/bin/python3
"""`daydream-rtc serve`: frames/s through POST /frames and REST push -> /whep/frame latency.

    /usr/bin/python3 bench/serve_bench.py [--duration 5] [--sizes 512x512,1280x720]

Part 1, ingest (HTTP only): a serve process without a running stream (frames go into the
bounded pre-start queue, oldest dropped, so nothing downstream paces them), one and four
client threads posting the same pre-encoded frame for ``--duration`` seconds, for each size:

* ``json+png`` (baseline): the reference tool's form, ``{"frame_b64": <PNG, base64>}``
  (PNG made once by PIL at its default level, as the ComfyUI node does per frame);
* ``raw``: ``application/octet-stream`` RGB bytes, ``?width=&height=&format=RGB``.

It prints accepted frames/s, serve's CPU (user+system, psutil) per accepted frame, and the
ratios raw / json+png.

Part 2, round trip (WebRTC, 127.0.0.1 only): ``daydream-rtc gateway`` and ``serve`` with
``--ice-local-address 127.0.0.1``; a 512x512 stream at 30 fps through the gateway's identity
effect (prompt "plain", delta 0), its output subscribed with /whep/connect. A pusher posts
frames at 30 fps with the frame number stamped in the top rows (bench/whip_receiver.py's
marker); a poller reads /whep/frame back as fast as it answers and notes when each number is
first seen. Latency = first seen - posted (both time.monotonic()), for the reference path
(JSON+PNG in, JSON PNG out, FIFO queue: the baseline) and the raw path (raw in, ``?format=raw``
out), under serve's queue modes, each with a fresh serve against the same gateway. The pusher
starts once the output flows, so the standing delay a connection set-up leaves in a FIFO
queue (see docs/rest-api.md) is not in these numbers.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import requests
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import drtc_process  # noqa: E402
from whip_receiver import MARK_ROWS, read_marker, stamp_marker  # noqa: E402

BINARY = Path(os.environ.get("DRTC_BUILD_DIR", REPO / "build")) / "app" / "daydream-rtc"
PLUGINS = BINARY.parent.parent / "gst"
TARGET_P50_MS = 40.0


def env():
    e = dict(os.environ)
    e.setdefault("GST_PLUGIN_PATH_1_0", str(PLUGINS))
    e.setdefault("NICE_DISABLE_UPNP", "1")  # keep libnice off the LAN
    return e


class Proc:
    """A daydream-rtc command on port 0; ``url`` from its first stdout line."""

    def __init__(self, *args, extra_env=None):
        self.log = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log")
        self.proc, self.url = drtc_process.start(
            BINARY, *args, env={**env(), **(extra_env or {})}, stderr=self.log
        )
        self.ps = psutil.Process(self.proc.pid)

    def cpu(self):
        t = self.ps.cpu_times()
        return t.user + t.system

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.stdout.close()


def picture(width, height, seed=7):
    """A natural-ish RGB frame: gradients plus mild noise (PNG neither trivial nor noise)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack(
        [(x * 255 // width), (y * 255 // height), ((x + y) * 255 // (width + height))], -1
    ).astype(np.int16)
    rgb += np.random.default_rng(seed).integers(-6, 7, rgb.shape, dtype=np.int16)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def png_b64(rgb):
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


# ---- part 1: ingest ----


def post_loop(url, mode, payload, width, height, stop, counts, i):
    http = requests.Session()
    if mode == "raw":
        target = f"{url}/frames?width={width}&height={height}&format=RGB"
        headers = {"Content-Type": "application/octet-stream"}
        body = payload
    else:
        target = f"{url}/frames"
        headers = {"Content-Type": "application/json"}
        body = json.dumps({"frame_b64": payload}).encode()
    while not stop.is_set():
        r = http.post(target, data=body, headers=headers, timeout=10)
        if r.status_code != 200:
            raise SystemExit(f"/frames answered {r.status_code}: {r.text[:200]}")
        counts[i] += 1


def ingest(serve, mode, payload, width, height, clients, duration):
    stop = threading.Event()
    counts = [0] * clients
    threads = [
        threading.Thread(
            target=post_loop, args=(serve.url, mode, payload, width, height, stop, counts, i)
        )
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    time.sleep(0.5)  # warm-up: connections, the decoder pipelines of the worker threads
    c0, n0, t0 = serve.cpu(), sum(counts), time.monotonic()
    time.sleep(duration)
    c1, n1, t1 = serve.cpu(), sum(counts), time.monotonic()
    stop.set()
    for t in threads:
        t.join()
    frames = n1 - n0
    return frames / (t1 - t0), (c1 - c0) * 1000 / max(frames, 1)


def part_ingest(sizes, duration):
    serve = Proc("serve", "--settings-dir", tempfile.mkdtemp(prefix="bench-settings-"))
    rows = []
    try:
        for width, height in sizes:
            rgb = picture(width, height)
            payloads = {"json+png": png_b64(rgb), "raw": rgb.tobytes()}
            for clients in (1, 4):
                base = None
                for mode in ("json+png", "raw"):
                    fps, cpu = ingest(serve, mode, payloads[mode], width, height, clients, duration)
                    base = base or (fps, cpu)
                    rows.append((f"{width}x{height}", clients, mode, fps, cpu, base))
    finally:
        serve.stop()
    print(f"POST /frames, no stream running (pre-start queue), {duration:.0f} s per row")
    print("fps: frames accepted per second; CPU: serve user+system per accepted frame")
    print(
        f"{'size':10} {'clients':>7} {'mode':10} {'fps':>8} {'CPU ms/f':>9} "
        f"{'fps ratio':>9} {'CPU ratio':>9}"
    )
    for size, clients, mode, fps, cpu, base in rows:
        print(
            f"{size:10} {clients:>7} {mode:10} {fps:8.1f} {cpu:9.2f} "
            f"{fps / base[0]:8.2f}x {cpu / base[1]:8.2f}x"
        )
    return rows


# ---- part 2: round trip ----


class Pusher(threading.Thread):
    def __init__(self, url, mode, frames, size):
        super().__init__(daemon=True)
        self.url, self.mode, self.frames, self.size = url, mode, frames, size
        self.sent = {}
        self.running = True

    def run(self):
        http = requests.Session()
        n = 0
        next_at = time.monotonic()
        while self.running:
            rgb = self.frames[n % len(self.frames)].copy()
            stamp_marker(rgb, n)
            if self.mode == "raw":
                body = rgb.tobytes()
                url = f"{self.url}/frames?width={self.size}&height={self.size}&format=RGB"
                headers = {"Content-Type": "application/octet-stream"}
            else:
                body = json.dumps({"frame_b64": png_b64(rgb)}).encode()
                url, headers = f"{self.url}/frames", {"Content-Type": "application/json"}
            t = time.monotonic()
            r = http.post(url, data=body, headers=headers, timeout=10)
            if r.status_code == 200:
                self.sent[n & 0xFFFF] = t
            n += 1
            next_at += 1 / 30
            time.sleep(max(0.0, next_at - time.monotonic()))


def poll_marker(http, url, mode):
    if mode == "raw":
        r = http.get(f"{url}/whep/frame?format=raw", timeout=10)
        if r.headers.get("X-Has-Frame") != "1":
            return None
        w, h = int(r.headers["X-Frame-Width"]), int(r.headers["X-Frame-Height"])
        rgb = np.frombuffer(r.content, np.uint8).reshape(h, w, 3)
    else:
        body = http.get(f"{url}/whep/frame", timeout=10).json()
        if not body["has_frame"]:
            return None
        rgb = np.asarray(Image.open(io.BytesIO(base64.b64decode(body["frame_b64"]))))
    return read_marker(rgb[:MARK_ROWS, :, 1].astype(np.float32))


def round_trip(serve, mode, size, duration):
    frames = [picture(size, size, seed) for seed in range(4)]
    pusher = Pusher(serve.url, mode, frames, size)
    pusher.start()
    http = requests.Session()
    seen = {}
    deadline = time.monotonic() + 20
    while poll_marker(http, serve.url, mode) is None:  # the first frames through
        if time.monotonic() > deadline:
            raise SystemExit("no marked frame came back in 20 s")
    time.sleep(1.0)
    start = time.monotonic()
    polls = 0
    while time.monotonic() - start < duration:
        number = poll_marker(http, serve.url, mode)
        polls += 1
        if number is not None and number not in seen:
            seen[number] = time.monotonic()
    pusher.running = False
    pusher.join(5)
    lat = sorted(
        (seen[n] - pusher.sent[n]) * 1000 for n in seen if n in pusher.sent and seen[n] >= start
    )
    return lat, polls / duration


def pct(values, p):
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


def run_stream(gw, mode, queue_mode, size, duration):
    serve = Proc(
        "serve",
        "--settings-dir",
        tempfile.mkdtemp(prefix="bench-settings-"),
        "--ice-local-address",
        "127.0.0.1",
        "--queue-mode",
        queue_mode,
        extra_env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": "bench"},
    )
    try:
        body = {
            "stream_name": "bench",
            "frame_rate": 30,
            "frame_width": size,
            "frame_height": size,
            "pipeline_config": {"params": {"prompt": "plain", "delta": 0.0}},
        }
        r = requests.post(f"{serve.url}/start", json=body, timeout=30)
        r.raise_for_status()
        deadline = time.monotonic() + 20
        while not (whep := requests.get(f"{serve.url}/status", timeout=5).json()["whep_url"]):
            if time.monotonic() > deadline:
                raise SystemExit("no whep_url in 20 s")
            time.sleep(0.1)
        requests.post(f"{serve.url}/whep/connect", json={"whep_url": whep}, timeout=10)
        return round_trip(serve, mode, size, duration)
    finally:
        serve.stop()


def part_round_trip(duration):
    size = 512
    gw = Proc("gateway", "--ice-local-address", "127.0.0.1")
    results = []
    try:
        for mode, queue_mode in (
            ("json+png", "backpressure"),  # the reference tool's form and queue
            ("json+png", "leaky"),
            ("raw", "backpressure"),  # serve's defaults with the fast path
            ("raw", "leaky"),
            ("raw", "latest"),
        ):
            lat, poll_rate = run_stream(gw, mode, queue_mode, size, duration)
            results.append((mode, queue_mode, lat, poll_rate))
    finally:
        gw.stop()
    print()
    print(
        f"REST push -> /whep/frame through the local gateway, {size}x{size} at 30 fps, "
        f"{duration:.0f} s per row, 127.0.0.1; baseline: the reference tool's form"
    )
    print("latency: posted -> first seen in /whep/frame, ms (includes the poll interval)")
    print(
        f"{'path':10} {'--queue-mode':13} {'frames':>6} {'p50':>7} {'p90':>7} {'p99':>7} "
        f"{'polls/s':>8} {'p50 ratio':>9}"
    )
    base = pct(results[0][2], 50)
    for mode, queue_mode, lat, poll_rate in results:
        p50 = pct(lat, 50)
        print(
            f"{mode:10} {queue_mode:13} {len(lat):6} {p50:7.1f} {pct(lat, 90):7.1f} "
            f"{pct(lat, 99):7.1f} {poll_rate:8.0f} {p50 / base:8.2f}x"
        )
    best = min(pct(r[2], 50) for r in results)
    verdict = "met" if best <= TARGET_P50_MS else "missed"
    print(
        f"target: p50 <= {TARGET_P50_MS:.0f} ms at {size}x{size}: best {best:.1f} ms -> {verdict}"
    )
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--sizes", default="512x512,1280x720", help="ingest sizes, WxH,...")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-round-trip", action="store_true")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    print(f"daydream-rtc serve bench: {os.cpu_count()} CPUs, {BINARY}")
    if not args.skip_ingest:
        part_ingest(sizes, args.duration)
    if not args.skip_round_trip:
        part_round_trip(args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
