"""A ComfyUI batch through `daydream-rtc serve` at its defaults: every frame arrives, in order.

150 frames, each with its index painted as black/white blocks, are posted as fast as one
client can (as the node pack posts a clip), through the compatible JSON+PNG path and the raw
path; the gateway's identity effect sends them back and /whep/frame is read as fast as it
answers, so every frame (shown for 1/6 s at 6 fps) is seen. Real WebRTC: scripts/netns-run.
"""

import base64
import io
import threading

import numpy as np
import pytest
import requests
from PIL import Image

from drtc_peers import in_drtc_netns
from batch_check import check_batch, counters
from gateway_fixture import wait_until
from timescale import scaled

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)

SIZE, FPS, FRAMES = 256, 6, 150
BITS, BLOCK, MARGIN = 8, 32, 8


def marked(index):
    """A grey frame with ``index`` in the top rows: 8 blocks, then their complement."""
    rgb = np.full((SIZE, SIZE, 3), 128, np.uint8)
    for bit in range(BITS):
        on = (index >> (BITS - 1 - bit)) & 1
        x = bit * BLOCK
        rgb[0:BLOCK, x : x + BLOCK] = 255 if on else 0
        rgb[BLOCK : 2 * BLOCK, x : x + BLOCK] = 0 if on else 255
    return rgb


def read_mark(rgb):
    """The index in a frame, or None when the blocks are not clearly black and white."""
    number = 0
    for bit in range(BITS):
        x = bit * BLOCK
        top = rgb[MARGIN : BLOCK - MARGIN, x + MARGIN : x + BLOCK - MARGIN, 1].mean()
        low = rgb[BLOCK + MARGIN : 2 * BLOCK - MARGIN, x + MARGIN : x + BLOCK - MARGIN, 1].mean()
        if not ((top > 170 and low < 80) or (top < 80 and low > 170)):
            return None
        number = number * 2 + (top > 170)
    return number


class Watcher(threading.Thread):
    """Reads raw /whep/frame until stopped; keeps each new index it sees."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.base, self.seen, self.running = base, [], True

    def run(self):
        http = requests.Session()
        while self.running:
            r = http.get(f"{self.base}/whep/frame?format=raw", timeout=10)
            if r.headers.get("X-Has-Frame") != "1":
                continue
            w, h = int(r.headers["X-Frame-Width"]), int(r.headers["X-Frame-Height"])
            index = read_mark(np.frombuffer(r.content, np.uint8).reshape(h, w, 3))
            if index is not None and (not self.seen or self.seen[-1] != index):
                self.seen.append(index)


def post_frame(http, base, path, index):
    rgb = marked(index)
    if path == "raw":
        return http.post(
            f"{base}/frames?width={SIZE}&height={SIZE}&format=RGB",
            data=rgb.tobytes(),
            headers={"Content-Type": "application/octet-stream"},
            timeout=30,
        )
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return http.post(
        f"{base}/frames", json={"frame_b64": base64.b64encode(out.getvalue()).decode()}, timeout=30
    )


@pytest.mark.parametrize("path", ["json+png", "raw"])
def test_a_batch_arrives_whole_and_in_order(gateway_factory, serve_factory, path):
    gw = gateway_factory()
    s = serve_factory(env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": "k"})
    body = {
        "stream_name": "batch",
        "frame_rate": FPS,
        "frame_width": SIZE,
        "frame_height": SIZE,
        "pipeline_config": {"params": {"prompt": "plain", "delta": 0.0}},
    }
    r = requests.post(f"{s.url}/start", json=body, timeout=30)
    assert r.status_code == 200, r.text
    assert requests.get(f"{s.url}/status", timeout=5).json()["queue_mode"] == "backpressure"
    whep_url = wait_until(
        lambda: requests.get(f"{s.url}/status", timeout=5).json()["whep_url"], 20, what="whep_url"
    )
    assert requests.post(f"{s.url}/whep/connect", json={"whep_url": whep_url}, timeout=10).ok
    wait_until(
        lambda: requests.get(f"{s.url}/whep/status", timeout=5).json()["frames_received"] > 5,
        30,
        what="output frames",
    )
    watcher = Watcher(s.url)
    watcher.start()
    before = counters(s.url)
    try:
        http = requests.Session()
        for i in range(FRAMES):
            r = post_frame(http, s.url, path, i)
            assert r.status_code == 200, (i, r.status_code, r.text)
        wait_until(lambda: FRAMES - 1 in watcher.seen, 60, 0.2, "the last frame of the batch")
    finally:
        watcher.running = False
        watcher.join(scaled(10))
    stats = requests.get(f"{s.url}/status", timeout=5).json()["queue_stats"]
    assert stats["dropped"] == 0
    check_batch(before, counters(s.url), FRAMES, watcher.seen)
