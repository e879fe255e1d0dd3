#!/usr/bin/python3
"""The local gateway end to end: publish, process, subscribe, change the prompt.

Starts `daydream-rtc gateway`, creates a stream, publishes a moving test pattern over WHIP,
subscribes to the processed output over WHEP, changes the prompt halfway through with a PATCH,
and writes before/after PNGs plus a summary of frame rates and latency.

    /usr/bin/python3 examples/gateway-demo.py --binary build/app/daydream-rtc --out demo-out

Every peer gathers ICE candidates on 127.0.0.1 only (or, inside scripts/netns-run, on the
namespace's veth pair), so no packet leaves this machine. The WHIP/WHEP peers here are the
independent aiortc peers of tests/interop until the whipsink/whepsrc elements take over.
"""

import argparse
import asyncio
import json
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np
import requests
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "interop"))

from drtc_peers import (  # noqa: E402
    MovingPatternTrack,
    WhepSubscriber,
    WhipPublisher,
    in_drtc_netns,
    pin_host_addresses,
)

SIZE = 512
PROBE = (0, 0, 48, 48)  # a corner square flipped black/white to time the path
PROMPT_BEFORE = "a neon city at night"
PROMPT_AFTER = "inverted colours"


class ProbeTrack(MovingPatternTrack):
    """The moving pattern with a corner square that the demo flips to measure latency."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.white = False
        self.last_rgb = None

    async def recv(self):
        frame = await super().recv()
        img = frame.to_ndarray(format="rgb24")
        x, y, w, h = PROBE
        img[y : y + h, x : x + w] = 255 if self.white else 0
        self.last_rgb = img
        out = frame.from_ndarray(img, format="rgb24")
        out.pts, out.time_base = frame.pts, frame.time_base
        return out


def start_gateway(binary, local_address):
    args = [binary, "gateway", "--port", "0"]
    if local_address:
        args += ["--ice-local-address", local_address]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if "listening on " not in line:
        proc.kill()
        sys.exit(f"the gateway did not start: {line!r}")
    return proc, line.split("listening on ")[1].split()[0]


async def wait_online(base, stream_id, timeout=20):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        r = await loop.run_in_executor(
            None, lambda: requests.get(f"{base}/v1/streams/{stream_id}/status", timeout=5)
        )
        data = r.json()["data"]
        if data["state"] == "ONLINE":
            return data["gateway_status"]["whep_url"]
        await asyncio.sleep(0.1)
    raise RuntimeError("the stream never came online")


async def measure_latency(track, sub, flips=12):
    """Flip the probe, time until the subscriber's frame shows it (the effect keeps
    black and white as they are before the prompt change)."""
    samples = []
    for _ in range(flips):
        await asyncio.sleep(0.25)
        track.white = not track.white
        want_bright = track.white
        flipped = time.monotonic()
        while time.monotonic() - flipped < 2.0:
            mean = sub.mean_rgb(PROBE)
            if (sum(mean) / 3 > 128) == want_bright:
                samples.append((time.monotonic() - flipped) * 1000)
                break
            await asyncio.sleep(0.002)
    return samples


async def run(base, out):
    params = json.loads((ROOT / "data" / "pipeline-config.json").read_text())["params"]
    params.update(prompt=PROMPT_BEFORE, delta=0.8, seed=42)
    r = requests.post(f"{base}/v1/streams", json={"params": params, "name": "demo"}, timeout=10)
    r.raise_for_status()
    stream = r.json()

    track = ProbeTrack(SIZE, SIZE, fps=30)
    pub = WhipPublisher(track)
    await pub.start(stream["whip_url"])
    sub = WhepSubscriber()
    await sub.start(await wait_online(base, stream["id"]))
    await sub.wait_frames(30, timeout=20)

    latency = await measure_latency(track, sub)
    fps_before = sub.measured_fps(2.0)
    Image.fromarray(track.last_rgb).save(out / "input.png")
    Image.fromarray(sub.latest_rgb()).save(out / "before.png")

    r = requests.patch(
        f"{base}/v1/streams/{stream['id']}", json={"params": {"prompt": PROMPT_AFTER}}, timeout=10
    )
    r.raise_for_status()
    changed = time.monotonic()
    await asyncio.sleep(2.0)
    Image.fromarray(sub.latest_rgb()).save(out / "after.png")
    status = requests.get(f"{base}/v1/streams/{stream['id']}/status", timeout=5).json()["data"]
    summary = {
        "stream_id": stream["id"],
        "size": f"{SIZE}x{SIZE}",
        "prompt_before": PROMPT_BEFORE,
        "prompt_after": PROMPT_AFTER,
        "published_frames": track.frames_sent,
        "received_frames": sub.frames_received,
        "received_fps": round(fps_before, 1),
        "gateway_input_fps": round(status["inference_status"]["input_fps"], 1),
        "gateway_output_fps": round(status["inference_status"]["output_fps"], 1),
        "latency_ms_p50": round(statistics.median(latency), 1) if latency else None,
        "latency_ms_max": round(max(latency), 1) if latency else None,
        "latency_samples": len(latency),
        "seconds_after_patch": round(time.monotonic() - changed, 1),
    }
    before = np.asarray(Image.open(out / "before.png"), dtype=float)
    after = np.asarray(Image.open(out / "after.png"), dtype=float)
    summary["mean_abs_change_after_patch"] = round(float(np.abs(after - before).mean()), 1)
    await sub.stop()
    await pub.stop()
    requests.delete(f"{base}/v1/streams/{stream['id']}", timeout=5)
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(ROOT / "build" / "app" / "daydream-rtc"))
    parser.add_argument("--out", default="demo-out")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    local = None if in_drtc_netns() else "127.0.0.1"
    if local:
        pin_host_addresses([local])
    proc, base = start_gateway(args.binary, local)
    try:
        summary = asyncio.run(asyncio.wait_for(run(base, out), 120))
    finally:
        proc.terminate()
        proc.wait(10)
    text = "\n".join(f"{k}: {v}" for k, v in summary.items())
    (out / "summary.txt").write_text(text + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(text)
    print(
        "latency: probe flip in the publisher -> seen in the subscriber's decoded frame "
        "(aiortc encode, gateway decode + effect + x264, aiortc decode)"
    )
    for name in ("input.png", "before.png", "after.png", "summary.txt"):
        print(f"  wrote {out / name}")


if __name__ == "__main__":
    main()
