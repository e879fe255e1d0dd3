"""The manager with media (inside scripts/netns-run): the offline mode runs the local gateway
and points serve at it; a key saved through /rtc/credentials reaches the running serve."""

import os
import signal

import numpy as np
import pytest
import requests

from core_standins import classes_with_core
from drtc_peers import in_drtc_netns
from gateway_fixture import wait_until
from manager_fixture import free_base, gone
from routes_fixture import ComfyServer
import workflow_harness as wh

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)
START = {"stream_name": "t", "frame_rate": 10, "frame_width": 128, "frame_height": 128}


def test_offline_mode_runs_the_local_gateway(fresh_pack, monkeypatch):
    monkeypatch.setenv("DAYDREAM_API_URL", "local")
    monkeypatch.delenv("DAYDREAM_API_KEY")  # none needed offline
    fresh_pack.sub("settings").save_settings(port=free_base())
    status = fresh_pack.manager.ensure_running()
    assert status["running"] and status["offline"]
    gateway_pid = fresh_pack.manager.gateway.pid()
    rtc = fresh_pack.sub("api").client_for()
    started = rtc.start(START)
    assert started["stream_id"].startswith("str_")
    assert started["whip_url"].startswith(fresh_pack.manager.gateway_url)
    rtc.stop()
    fresh_pack.manager.stop()
    assert gone(gateway_pid) and gone(status["pid"])


def test_a_saved_key_reaches_the_running_serve(fresh_pack, gateway_factory, tmp_path, monkeypatch):
    wanted = "key-the-gateway-wants-5c1e"
    key_file = tmp_path / "gateway.key"
    key_file.write_text(wanted)
    os.chmod(key_file, 0o600)
    gw = gateway_factory("--api-key-file", str(key_file))
    monkeypatch.setenv("DAYDREAM_API_URL", gw.url)
    monkeypatch.setenv("DAYDREAM_API_KEY", "an-old-key")
    fresh_pack.sub("settings").save_settings(port=free_base())
    pid = fresh_pack.manager.ensure_running()["pid"]
    rtc = fresh_pack.sub("api").client_for()
    with pytest.raises(fresh_pack.sub("client").RtcApiError) as refused:
        rtc.start(START)
    assert refused.value.status == 502 and "401" in refused.value.detail
    comfy = ComfyServer(fresh_pack.prompt_server.routes)
    try:
        r = requests.post(f"{comfy.url}/rtc/credentials", json={"api_key": wanted}, timeout=30)
        assert r.status_code == 200 and wanted not in r.text
    finally:
        comfy.close()
    assert rtc.start(START)["stream_id"].startswith("str_")  # no restart needed
    assert fresh_pack.manager.status()["pid"] == pid
    rtc.stop()


def frames_in(base_url):
    text = requests.get(f"{base_url}/metrics", timeout=10).text
    line = next(x for x in text.splitlines() if x.startswith("daydream_rtc_frames_in_total"))
    return int(float(line.split()[-1]))


def test_a_long_batch_loses_no_frame_on_the_managers_serve(fresh_pack, monkeypatch):
    """The serve the manager starts takes a batch longer than its 90-frame queue whole: found
    in a real ComfyUI 0.8.0, where a 150-image batch lost 48 frames to serve's leaky default."""
    monkeypatch.setenv("DAYDREAM_API_URL", "local")
    fresh_pack.sub("settings").save_settings(port=free_base())
    fresh_pack.manager.ensure_running()
    rtc = fresh_pack.sub("api").client_for()
    rtc.start({**START, "frame_rate": 30})
    frame_input = fresh_pack.module.NODE_CLASS_MAPPINGS["RTCStreamFrameInput"]()
    frame_input.run(np.full((2, 128, 128, 3), 0.5, np.float32))
    wait_until(lambda: rtc.status().get("frames_sent", 0) > 0, 60, what="the stream to send")
    batch = np.random.default_rng(1).random((240, 128, 128, 3), np.float32)
    frame_input.run(batch, unique_id="9")
    status = rtc.status()
    assert status["queue_stats"]["dropped"] == 0, status["queue_stats"]
    assert frames_in(rtc.base_url) == 242
    rtc.stop()


def start_prompt():
    config = {"prompt": "invert", "width": 512, "height": 512}
    return {
        "1": {"class_type": "RTCStreamPipelineConfig", "inputs": config},
        "2": {"class_type": "StartRTCStream", "inputs": {"pipeline_config": ["1", 0], **START}},
        "3": {"class_type": "RTCStreamStatus", "inputs": {"stream_id": ["2", 0]}},
        "4": {"class_type": "PreviewAny", "inputs": {"source": ["3", 6]}},
    }


def test_a_restarted_serve_gets_the_stream_started_again(fresh_pack, monkeypatch):
    """Found in a real ComfyUI 0.8.0: after serve crashed and the manager restarted it, the
    Start node stayed cached (its inputs had not changed), so the queued workflow ran on without
    a stream and said nothing. The Start node's cache now follows the serve it started on."""
    monkeypatch.setenv("DAYDREAM_API_URL", "local")
    fresh_pack.sub("settings").save_settings(port=free_base())
    first = fresh_pack.manager.ensure_running()["pid"]
    prompt, ex = start_prompt(), wh.Executor(
        classes_with_core(fresh_pack.module.NODE_CLASS_MAPPINGS)
    )
    old_stream = ex.run(prompt)["3"][1]
    assert old_stream.startswith("str_")
    ex.run(prompt)
    assert "2" not in ex.executed  # unchanged: cached, as before
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: fresh_pack.manager.status()["pid"] not in (None, first), 30, what="restart")
    running, stream_id = ex.run(prompt)["3"][:2]
    assert running is True and stream_id.startswith("str_") and stream_id != old_stream
    ex.run(prompt)
    assert "2" not in ex.executed  # and cached again on the new serve
    fresh_pack.sub("api").client_for().stop()
