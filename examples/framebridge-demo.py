#!/usr/bin/python3
"""Push generated frames into framebridgesrc and record what comes out.

What it shows: the fallback pattern before the first frame, frames pushed from
Python (tightly packed numpy RGB, scaled by the element to the output size),
the last frame repeated when the producer pauses, and the element's counters.

    GST_PLUGIN_PATH=build/gst /usr/bin/python3 examples/framebridge-demo.py --out demo-out

Writes OUT/framebridge.mp4 (H.264), OUT/fallback.png and OUT/live.png.
"""

import argparse
import math
import pathlib
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GLib, Gst, GstApp, GstVideo  # noqa: E402,F401

import numpy as np  # noqa: E402

WIDTH, HEIGHT, FPS = 512, 512, 30
SRC_W, SRC_H = 640, 360  # what the "producer" renders; the element scales it


def render(t):
    """A moving colour field with a bouncing disc, as tightly packed RGB."""
    y, x = np.mgrid[0:SRC_H, 0:SRC_W]
    frame = np.empty((SRC_H, SRC_W, 3), np.uint8)
    frame[..., 0] = (x * 255 // SRC_W + int(t * 80)) % 256
    frame[..., 1] = (y * 255 // SRC_H).astype(np.uint8)
    frame[..., 2] = 128 + int(100 * math.sin(t * 2))
    cx = SRC_W / 2 + SRC_W / 3 * math.sin(t * 1.7)
    cy = SRC_H / 2 + SRC_H / 3 * math.cos(t * 2.3)
    frame[(x - cx) ** 2 + (y - cy) ** 2 < 50**2] = (255, 255, 255)
    return frame.tobytes()


def snapshot(appsink, path):
    sample = appsink.try_pull_sample(2 * Gst.SECOND)
    if sample is None:
        raise RuntimeError("no frame to snapshot")
    png = GstVideo.video_convert_sample(sample, Gst.Caps.from_string("image/png"), 5 * Gst.SECOND)
    buf = png.get_buffer()
    path.write_bytes(buf.extract_dup(0, buf.get_size()))


def drain(appsink):
    while appsink.try_pull_sample(0) is not None:
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo-out", help="output folder")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of pushed frames")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    Gst.init(None)
    if Gst.ElementFactory.find("framebridgesrc") is None:
        sys.exit("framebridgesrc not found: set GST_PLUGIN_PATH=build/gst")
    pipeline = Gst.parse_launch(
        f"framebridgesrc name=src width={WIDTH} height={HEIGHT} format=I420 "
        f"framerate={FPS}/1 ! tee name=t "
        "t. ! queue ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 "
        "! h264parse ! mp4mux ! filesink name=file "
        "t. ! queue leaky=downstream max-size-buffers=2 ! "
        "appsink name=snap sync=false drop=true max-buffers=1"
    )
    pipeline.get_by_name("file").set_property("location", str(out / "framebridge.mp4"))
    src = pipeline.get_by_name("src")
    snap = pipeline.get_by_name("snap")
    bus = pipeline.get_bus()

    pipeline.set_state(Gst.State.PLAYING)
    print("1 s of fallback pattern (no frames pushed yet)...")
    time.sleep(1.0)
    drain(snap)
    snapshot(snap, out / "fallback.png")

    print(f"pushing {args.seconds:.0f} s of {SRC_W}x{SRC_H} RGB frames at {FPS} fps...")
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < args.seconds:
        data = GLib.Bytes.new(render(n / FPS))
        result = int(src.emit("push-frame", "RGB", SRC_W, SRC_H, data, 1_000_000))
        if result != 0:
            sys.exit(f"push refused: result {result}")
        n += 1
        time.sleep(max(0.0, start + n / FPS - time.monotonic()))

    print("producer paused for 1 s: the last frame repeats...")
    time.sleep(1.0)
    drain(snap)
    snapshot(snap, out / "live.png")

    pipeline.send_event(Gst.Event.new_eos())
    msg = bus.timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    stats = src.get_property("stats")
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type == Gst.MessageType.ERROR:
        sys.exit("pipeline did not finish: " + (msg.parse_error()[0].message if msg else "timeout"))

    keys = ("pushed", "live", "repeated", "fallback", "dropped", "converted", "output")
    print("framebridgesrc stats: " + ", ".join(f"{k}={stats.get_value(k)}" for k in keys))
    for name in ("framebridge.mp4", "fallback.png", "live.png"):
        print(f"  wrote {out / name}")


if __name__ == "__main__":
    main()
