#!/usr/bin/python3
"""The product path end to end, driven over REST exactly as the ComfyUI nodes drive it.

Starts `daydream-rtc serve` (and, without DAYDREAM_API_KEY, the local `daydream-rtc gateway`
as its Daydream), starts a stream, posts a moving test pattern to /frames, subscribes to the
processed output with /whep/connect, changes the prompt halfway through with PATCH /pipeline,
and writes input/before/after PNGs plus a summary of frame rates and latency.

    /usr/bin/python3 examples/serve-demo.py --binary build/app/daydream-rtc --out demo-out

Inside serve, the frames go through framebridgesrc ! whipsink (H.264, hardware encoder when
present) and come back through whepsrc ! appsink: the C elements, not a Python peer. Against
the local gateway every peer gathers ICE candidates on 127.0.0.1 only (or, inside
scripts/netns-run, on the namespace's own interfaces), so no packet leaves this machine.
"""

import argparse
import base64
import io
import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import requests
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
SIZE = 512
PROBE = (0, 0, 48, 48)  # a corner square flipped black/white to time the path
PROMPT_BEFORE = "a neon city at night"
PROMPT_AFTER = "inverted colours"


def in_netns():
    """Inside scripts/netns-run (its veth drtc0 exists): every interface is private."""
    if os.environ.get("DRTC_NETNS") == "1":
        return True
    try:
        socket.if_nametoindex("drtc0")
    except OSError:
        return False
    return True


class Command:
    """A daydream-rtc command on a free port; ``url`` from its first stdout line."""

    def __init__(self, binary, *args, env=None):
        self.log = tempfile.NamedTemporaryFile(prefix="drtc-demo-", suffix=".log")
        full = dict(os.environ)
        full.setdefault("GST_PLUGIN_PATH_1_0", str(pathlib.Path(binary).parents[1] / "gst"))
        full.update(env or {})
        self.proc = subprocess.Popen(
            [binary, *args, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=full,
            text=True,
        )
        line = self.proc.stdout.readline()
        if "listening on " not in line:
            self.stop()
            sys.exit(f"daydream-rtc {args[0]} did not start: {line!r}\n{self.log_text()}")
        self.url = line.split("listening on ")[1].split()[0]

    def log_text(self):
        return pathlib.Path(self.log.name).read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.stdout.close()


class Pusher(threading.Thread):
    """Posts a scrolling colour-bar pattern as raw RGB at 30 fps, probe square included."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.base = base
        self.white = False
        self.running = True
        self.sent = 0
        self.last = None
        x = np.arange(SIZE * 2)
        bars = np.array(
            [(235, 235, 235), (235, 235, 16), (16, 235, 235), (16, 235, 16), (235, 16, 235)],
            np.uint8,
        )[(x * 5 // (SIZE * 2)) % 5]
        self.strip = np.repeat(bars[np.newaxis], SIZE, 0)  # SIZE x 2*SIZE x 3

    def frame(self, n):
        shift = (n * 4) % SIZE
        rgb = np.ascontiguousarray(self.strip[:, shift : shift + SIZE])
        y = SIZE // 2 + int(SIZE / 4 * np.sin(n / 15))
        rgb[y - 24 : y + 24, SIZE // 2 - 24 : SIZE // 2 + 24] = (20, 20, 20)
        x0, y0, w, h = PROBE
        rgb[y0 : y0 + h, x0 : x0 + w] = 255 if self.white else 0
        return rgb

    def run(self):
        http = requests.Session()
        url = f"{self.base}/frames?width={SIZE}&height={SIZE}&format=RGB"
        headers = {"Content-Type": "application/octet-stream"}
        n, due = 0, time.monotonic()
        while self.running:
            rgb = self.frame(n)
            if http.post(url, data=rgb.tobytes(), headers=headers, timeout=10).ok:
                self.sent += 1
                self.last = rgb
            n += 1
            due += 1 / 30
            time.sleep(max(0.0, due - time.monotonic()))


def whep_rgb(http, base):
    r = http.get(f"{base}/whep/frame?format=raw", timeout=10)
    if r.headers.get("X-Has-Frame") != "1":
        return None
    w, h = int(r.headers["X-Frame-Width"]), int(r.headers["X-Frame-Height"])
    return np.frombuffer(r.content, np.uint8).reshape(h, w, 3)


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    sys.exit(f"demo: timed out waiting for {what}")


def measure_latency(pusher, base, flips=12):
    """Flip the probe, time until /whep/frame shows it (the effect keeps black and white as
    they are before the prompt change)."""
    http = requests.Session()
    samples = []
    x0, y0, w, h = PROBE
    for _ in range(flips):
        time.sleep(0.25)
        pusher.white = not pusher.white
        want_bright, flipped = pusher.white, time.monotonic()
        while time.monotonic() - flipped < 2.0:
            rgb = whep_rgb(http, base)
            if rgb is not None and (rgb[y0 : y0 + h, x0 : x0 + w].mean() > 128) == want_bright:
                samples.append((time.monotonic() - flipped) * 1000)
                break
    return samples


def png_from_json(base):
    frame = requests.get(f"{base}/whep/frame", timeout=10).json()
    return Image.open(io.BytesIO(base64.b64decode(frame["frame_b64"])))


def run(base, out, target):
    config = json.loads((ROOT / "data" / "pipeline-config.json").read_text())
    config["params"].update(prompt=PROMPT_BEFORE, delta=0.8, seed=42)
    r = requests.post(
        f"{base}/start",
        json={
            "stream_name": "daydream-rtc-demo",
            "pipeline_config": config,
            "frame_rate": 30,
            "frame_width": SIZE,
            "frame_height": SIZE,
            # a live producer: drop stale frames rather than queue them (the default,
            # backpressure, keeps every frame of a batch)
            "queue_mode": "leaky",
        },
        timeout=60,
    )
    if r.status_code != 200:
        sys.exit(f"demo: POST /start answered {r.status_code}: {r.text}")
    started = r.json()
    pusher = Pusher(base)
    pusher.start()
    try:
        whep_url = wait_for(
            "the output URL",
            lambda: requests.get(f"{base}/status", timeout=5).json()["whep_url"],
            60,
        )
        requests.post(f"{base}/whep/connect", json={"whep_url": whep_url}, timeout=10)
        wait_for(
            "processed frames",
            lambda: requests.get(f"{base}/whep/status", timeout=5).json()["frames_received"] > 30,
            60,
        )
        latency = measure_latency(pusher, base) if target == "local gateway" else []
        Image.fromarray(pusher.last).save(out / "input.png")
        png_from_json(base).save(out / "before.png")
        status = requests.get(f"{base}/status", timeout=5).json()
        whep_before = requests.get(f"{base}/whep/status", timeout=5).json()["frames_received"]
        t_before = time.monotonic()

        config["params"]["prompt"] = PROMPT_AFTER
        r = requests.patch(f"{base}/pipeline", json={"pipeline_config": config}, timeout=30)
        if r.status_code != 200:
            sys.exit(f"demo: PATCH /pipeline answered {r.status_code}: {r.text}")
        # two seconds' worth of output frames (the pusher's 30 fps), however fast this machine
        # makes them: what was queued before the change is through before "after" is taken
        wait_for(
            "frames after the prompt change",
            lambda: requests.get(f"{base}/whep/status", timeout=5).json()["frames_received"]
            >= whep_before + 60,
            60,
        )
        png_from_json(base).save(out / "after.png")
        whep_after = requests.get(f"{base}/whep/status", timeout=5).json()["frames_received"]
        received_fps = (whep_after - whep_before) / (time.monotonic() - t_before)
    finally:
        pusher.running = False
        pusher.join(5)
    stopped = requests.post(f"{base}/stop", timeout=15).json()
    before = np.asarray(Image.open(out / "before.png"), dtype=float)
    after = np.asarray(Image.open(out / "after.png"), dtype=float)
    return {
        "service": target,
        "stream_id": started["stream_id"],
        "size": f"{SIZE}x{SIZE}",
        "prompt_before": PROMPT_BEFORE,
        "prompt_after": PROMPT_AFTER,
        "posted_frames": pusher.sent,
        "sent_fps": round(status["fps"], 1),
        "sent_kbit_s": round(status["bitrate"] / 1000),
        "received_fps": round(received_fps, 1),
        "latency_ms_p50": round(statistics.median(latency), 1) if latency else None,
        "latency_ms_max": round(max(latency), 1) if latency else None,
        "latency_samples": len(latency),
        "mean_abs_change_after_patch": round(float(np.abs(after - before).mean()), 1),
        "final_phase": stopped["remote_status"]["phase"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(ROOT / "build" / "app" / "daydream-rtc"))
    parser.add_argument("--out", default="demo-out")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    local = [] if in_netns() else ["--ice-local-address", "127.0.0.1"]
    settings = tempfile.mkdtemp(prefix="drtc-demo-settings-")

    gateway = None
    if os.environ.get("DAYDREAM_API_KEY"):
        target, env = "Daydream (DAYDREAM_API_KEY)", {}
        local = []  # the real gateway is not on this machine
    else:
        gateway = Command(args.binary, "gateway", *local)
        target = "local gateway"
        env = {"DAYDREAM_API_URL": gateway.url, "DAYDREAM_API_KEY": "local-demo"}
    serve = Command(args.binary, "serve", "--settings-dir", settings, *local, env=env)
    try:
        print(f"daydream-rtc serve on {serve.url}, Daydream: {target}", flush=True)
        summary = run(serve.url, out, target)
    except SystemExit:
        print(serve.log_text(), file=sys.stderr)
        raise
    finally:
        serve.stop()
        if gateway:
            gateway.stop()
    text = "\n".join(f"{k}: {v}" for k, v in summary.items())
    (out / "summary.txt").write_text(text + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(text)
    if summary["latency_samples"]:
        print(
            "latency: probe flip in the posted frames -> seen in GET /whep/frame (REST, "
            "framebridgesrc, whipsink x264, gateway decode + effect + x264, whepsrc decode)"
        )
    for name in ("input.png", "before.png", "after.png", "summary.txt"):
        print(f"  wrote {out / name}")


if __name__ == "__main__":
    main()
