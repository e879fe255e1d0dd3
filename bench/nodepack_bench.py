#!/usr/bin/python3
"""The ComfyUI node pack's frame paths: IMAGE tensor -> frame accepted by serve, and serve's
/whep/frame -> IMAGE tensor, for the pack's raw path against the original pack's PNG form.

    /usr/bin/python3 bench/nodepack_bench.py [--runs 40] [--sizes 512x512,1280x720]

A serve process without a running stream takes the frames (they go into its bounded pre-start
queue, oldest dropped, so nothing downstream paces them). The pack is loaded the way ComfyUI
loads it (tests/python's loader and stand-ins) and driven through its nodes:

* ``raw`` (ours): RTCStreamFrameInput.run: vectorised float -> uint8 (rounded), raw RGB on
  serve's ``POST /frames?width=&height=`` over a kept-alive connection;
* ``png`` (baseline, the original pack's way, spec §3.4): truncating conversion, PIL PNG at
  its default level, base64, ``POST /frames {"frame_b64"}`` on a new connection per frame.

Single frames (``--runs`` calls of one image) and one 150-image batch, at each size; the test
images are noise (PNG's worst case). Then /whep/frame -> tensor: ``?format=raw`` into a float
tensor against the JSON PNG form decoded by PIL. Without a stream serve answers with its
blank, 1280x720 black: the raw path costs what a live frame costs, the PNG path far less (a
black PNG is tiny), so that ratio is a lower bound.
Also the pack's import time. Prints ms per frame, frames/s and the ratios png / raw; goals
(issue 14): raw <= 5 ms per 1280x720 frame, >= 20x the PNG form. Timings are this machine's.
"""

import argparse
import base64
import io
import os
import pathlib
import sys
import tempfile
import time

import numpy as np
import requests
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
BINARY = pathlib.Path(os.environ.get("DRTC_BUILD_DIR", ROOT / "build")) / "app" / "daydream-rtc"
sys.path.insert(0, str(ROOT / "tests" / "python"))

import comfyui_loader as loader  # noqa: E402
import drtc_process  # noqa: E402


def start_serve(settings):
    return drtc_process.start(BINARY, "serve", "--settings-dir", settings)


def load_pack():
    loader.use_standins()
    t0 = time.perf_counter()
    module = loader.load_custom_node(loader.install_as(tempfile.mkdtemp(), "daydream-rtc"))
    return module, (time.perf_counter() - t0) * 1000


def tensor(batch, width, height):
    images = np.random.default_rng(7).random((batch, height, width, 3), dtype=np.float32)
    try:
        import torch

        return torch.from_numpy(images), "torch"
    except ImportError:
        return images, "numpy"


def original_send(url, image):
    """The original pack's RTCStreamFrameInput, per frame (spec §3.4, §9.2)."""
    array = image.numpy() if hasattr(image, "numpy") else image
    frame = np.clip(array * 255.0, 0, 255).astype(np.uint8)
    png = io.BytesIO()
    Image.fromarray(frame, "RGB").save(png, format="PNG")
    body = {"frame_b64": base64.b64encode(png.getvalue()).decode()}
    requests.post(f"{url}/frames", json=body, timeout=2).raise_for_status()


def timed(fn, count):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000 / count


def bench_input(url, node, width, height, runs):
    single, kind = tensor(1, width, height)
    batch, _ = tensor(150, width, height)
    node.run(single)  # the connection and the feature check, once
    raw1 = timed(lambda: [node.run(single) for _ in range(runs)], runs)
    png_runs = max(3, runs // 4)
    png1 = timed(lambda: [original_send(url, single[0:1][0]) for _ in range(png_runs)], png_runs)
    raw150 = timed(lambda: node.run(batch), 150)
    png150 = timed(lambda: [original_send(url, batch[i]) for i in range(0, 150, 10)], 15)
    return kind, [("single", raw1, png1), ("batch 150", raw150, png150)]


def bench_output(url, pack, width, height, runs):
    requests.post(
        f"{url}/config",
        json={"frame_rate": 30, "frame_width": width, "frame_height": height},
        timeout=5,
    ).raise_for_status()
    convert = sys.modules[f"{pack.__name__}.convert"]
    http = requests.Session()

    def ours():
        r = http.get(f"{url}/whep/frame", params={"format": "raw"}, timeout=5)
        w, h = int(r.headers["X-Frame-Width"]), int(r.headers["X-Frame-Height"])
        return convert.rgb_to_image(convert.rgb_from_bytes(r.content, w, h))

    def original():
        body = requests.get(f"{url}/whep/frame", timeout=5).json()
        img = Image.open(io.BytesIO(base64.b64decode(body["frame_b64"]))).convert("RGB")
        return np.asarray(img, dtype=np.float32)[None] / 255.0

    size = tuple(ours().shape)[1:3]  # serve's blank is 1280x720 until a first frame arrives
    raw = timed(lambda: [ours() for _ in range(runs)], runs)
    png = timed(lambda: [original() for _ in range(max(3, runs // 4))], max(3, runs // 4))
    return f"/whep/frame {size[1]}x{size[0]}", raw, png


def row(what, raw, png):
    print(
        f"  {what:<22} raw {raw:7.2f} ms ({1000 / raw:7.1f}/s)   png {png:7.2f} ms "
        f"({1000 / png:6.1f}/s)   png/raw {png / raw:5.1f}x"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--sizes", default="512x512,1280x720")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as settings:
        proc, url = start_serve(settings)
        os.environ["DAYDREAM_RTC_SERVER_URL"] = url
        os.environ["DAYDREAM_RTC_SETTINGS_DIR"] = settings
        os.environ["DAYDREAM_RTC_AUTOSTART"] = "0"
        try:
            pack, import_ms = load_pack()
            print(f"pack import (ComfyUI's loader, stand-ins): {import_ms:.1f} ms")
            node = pack.NODE_CLASS_MAPPINGS["RTCStreamFrameInput"]()
            for size in args.sizes.split(","):
                width, height = (int(v) for v in size.split("x"))
                kind, rows = bench_input(url, node, width, height, args.runs)
                print(f"{width}x{height} ({kind} IMAGE) -> frame accepted by serve, per frame:")
                for what, raw, png in rows:
                    row(what, raw, png)
                row(*bench_output(url, pack, width, height, args.runs))
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
