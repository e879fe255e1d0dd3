"""Tests 2 and 3 of issue 14: the pack's nodes against the real serve and gateway, run through a
harness that applies ComfyUI's caching rule: the spec's saved workflow and ours run unchanged;
a 60-image batch arrives whole and in order; FrameOutput gives the prompt's effect; Update
changes it; an unchanged graph queued again sends no /start and no PATCH; Status; stop."""

import json
import threading

import numpy as np
import pytest

from drtc_peers import color_close, in_drtc_netns
from gateway_fixture import wait_until
from nodepack_fixture import loader
import core_standins
import workflow_harness as wh
from batch_check import check_batch, counters
from timescale import scaled

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)
SIZE, FPS = 128, 10
RED, CYAN = (255, 0, 0), (0, 255, 255)


def solid(rgb, size=SIZE, batch=1):
    return np.broadcast_to(np.array(rgb, np.float32) / 255, (batch, size, size, 3)).copy()


def load(path, classes):
    return wh.to_api(json.loads(path.read_text()), classes)


def node_of(prompt, class_type):
    return next(k for k, v in prompt.items() if v["class_type"] == class_type)


def test_original_workflow_runs_and_an_unchanged_queue_sends_nothing(pack_on_serve):
    pack, _gw = pack_on_serve
    prompt = load(
        loader.ROOT / "tests" / "fixtures" / "original-example-workflow.json", pack.classes
    )
    core_standins.FrameSource.frames = [solid(RED, 512) for _ in range(3)]
    ex = wh.Executor(pack.classes)
    results = ex.run(prompt)
    start, status = node_of(prompt, "StartRTCStream"), node_of(prompt, "RTCStreamStatus")
    stream_id = results[start][0]
    assert stream_id.startswith("str_") and results[status][0] is True
    assert results[status][1] == stream_id
    ex.run(prompt)
    assert start not in ex.executed and status in ex.executed
    assert node_of(prompt, "RTCStreamFrameInput") in ex.executed  # a live source: every run
    assert pack.requests_logged("POST /start ->") == 1
    assert pack.requests_logged("PATCH /pipeline ->") == 0
    assert pack.requests_logged("POST /pipeline/cache ->") == 1  # only when the hash changes
    stop_stream(pack, ex, prompt, start)


def stop_stream(pack, ex, prompt, start):
    prompt[start]["inputs"]["stop_stream"] = True
    results = ex.run(prompt)
    assert start in ex.executed and results[start][0] == ""
    status = pack.sub("api").client_for().status()
    assert status["running"] is False
    import server

    reset = [d for e, d in server.PromptServer.instance.sent if e == "rtc-stream-widget"]
    assert reset == [{"node_id": start, "widget": "stop_stream", "value": False}]


def output_color(ex, prompt, frame_output):
    results = ex.run(prompt)
    image = np.asarray(results[frame_output][0])
    assert image.shape == (1, SIZE, SIZE, 3), "a blank of the stream's size before any frame"
    return tuple(float(c) * 255 for c in image[0, SIZE // 2, SIZE // 2])


def wait_output(ex, prompt, frame_output, rgb):
    core_standins.FrameSource.frames = [solid(RED) for _ in range(1000)]
    wait_until(
        lambda: color_close(output_color(ex, prompt, frame_output), rgb, 45),
        30,
        0.05,
        f"FrameOutput showing {rgb}",
    )


def own_prompt(pack, fps=FPS):
    prompt = load(loader.ROOT / "examples" / "comfyui-workflow.json", pack.classes)
    cfg = prompt[node_of(prompt, "RTCStreamPipelineConfig")]["inputs"]
    cfg.update(prompt="invert", delta=1.0)
    start = prompt[node_of(prompt, "StartRTCStream")]["inputs"]
    start.update(fps=fps, width=SIZE, height=SIZE)
    return prompt, cfg


def test_all_eight_nodes_end_to_end(pack_on_serve):
    pack, _gw = pack_on_serve
    prompt, cfg = own_prompt(pack)
    ex = wh.Executor(pack.classes)
    frame_output = node_of(prompt, "RTCStreamFrameOutput")
    wait_output(ex, prompt, frame_output, CYAN)  # red in, the prompt "invert" applied
    assert pack.requests_logged("POST /start ->") == 1
    cfg.update(prompt="plain", delta=0.0)
    wait_output(ex, prompt, frame_output, RED)  # the changed config reached the stream
    patches = pack.requests_logged("PATCH /pipeline ->")
    assert patches == 1 and pack.requests_logged("POST /start ->") == 1
    ex.run(prompt)
    ex.run(prompt)
    assert pack.requests_logged("PATCH /pipeline ->") == 1
    assert pack.requests_logged("POST /start ->") == 1
    check_status(pack, ex, prompt)
    stop_stream(pack, ex, prompt, node_of(prompt, "StartRTCStream"))


def check_status(pack, ex, prompt):
    results = ex.run(prompt)
    running, stream_id, playback_id, whep_url, frames_sent, queue_depth, text = results[
        node_of(prompt, "RTCStreamStatus")
    ]
    status = json.loads(text)
    assert running is True and stream_id == status["stream_id"] and playback_id
    assert whep_url.endswith("/whep") and whep_url != status["whip_url"]
    assert frames_sent > 0 and queue_depth >= 0


BLOCKS = 8  # 2 rows x 4 columns: 6 bits of frame index, then a white and a black marker


def coded_frame(index):
    bits = [(index >> b) & 1 for b in range(6)] + [1, 0]
    image = np.zeros((SIZE, SIZE, 3), np.float32)
    for b, bit in enumerate(bits):
        y, x = divmod(b, 4)
        image[y * 64 : (y + 1) * 64, x * 32 : (x + 1) * 32] = float(bit)
    return image


def decode(frame):
    bits = []
    for b in range(BLOCKS):
        y, x = divmod(b, 4)
        block = frame[y * 64 + 24 : y * 64 + 40, x * 32 + 8 : x * 32 + 24]
        bits.append(int(block.mean() > 0.5))
    if bits[6:] != [1, 0]:
        return None
    return sum(bit << i for i, bit in enumerate(bits[:6]))


def test_a_batch_arrives_whole_and_in_order(pack_on_serve):
    pack, _gw = pack_on_serve
    # 5 fps: each output frame stays 200 ms in /whep/frame's latest slot, long enough for
    # FrameOutput's reads to see every one on a loaded 2-core machine (at 10 fps one in
    # sixty was overwritten before it was read, once in a full run beside other work)
    prompt, cfg = own_prompt(pack, fps=5)
    cfg.update(prompt="plain", delta=0.0)
    ex = wh.Executor(pack.classes)
    wait_output(ex, prompt, node_of(prompt, "RTCStreamFrameOutput"), RED)
    out_node, got = pack.classes["RTCStreamFrameOutput"](), {}
    # 150 output frames: the 60, and room for what comes before them on a loaded machine
    reader = threading.Thread(target=lambda: got.update(v=out_node.run("", count=150)))
    reader.start()
    batch = np.stack([coded_frame(i) for i in range(60)])
    from comfy.utils import PROGRESS

    PROGRESS.clear()
    before = counters(pack.serve.url)
    pack.classes["RTCStreamFrameInput"]().run(batch, unique_id="77")
    reader.join(scaled(120))
    assert ("77", 60, 60) in PROGRESS  # ComfyUI's progress bar followed the batch
    frames = np.asarray(got["v"][0])
    indices = [decode(f) for f in frames]
    seen = [i for n, i in enumerate(indices) if i is not None and (n == 0 or indices[n - 1] != i)]
    check_batch(before, counters(pack.serve.url), 60, seen)


def test_start_brings_a_running_stream_in_line(pack_on_serve):
    pack, _gw = pack_on_serve
    prompt, cfg = own_prompt(pack)
    ex = wh.Executor(pack.classes)
    start = node_of(prompt, "StartRTCStream")
    first = ex.run(prompt)[start][0]
    again = wh.Executor(pack.classes).run(prompt)[start][0]  # ComfyUI restarted: same config
    assert again == first and pack.requests_logged("POST /start ->") == 1
    assert pack.requests_logged("PATCH /pipeline ->") == 0  # it runs that config already
    prompt[start]["inputs"]["fps"] = FPS + 5
    restarted = ex.run(prompt)[start][0]
    assert restarted != first and pack.requests_logged("POST /start ->") == 2
    status = pack.sub("api").client_for().status()
    assert status["stream_settings"]["frame_rate"] == FPS + 5
    import server

    summaries = [
        d["summary"] for e, d in server.PromptServer.instance.sent if e != "rtc-stream-widget"
    ]
    assert summaries == ["Stream Started", "Stream Already Running", "Stream Restarted"]
