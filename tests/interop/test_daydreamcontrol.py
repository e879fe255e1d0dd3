"""daydreamcontrol (+ the shared Daydream API client) against the local gateway.

Real HTTP on 127.0.0.1 and, where a whipsink publishes, real WebRTC inside
scripts/netns-run.
"""

import os
import subprocess

import pytest
import requests

from drtc_peers import in_drtc_netns
from gateway_fixture import BUILD_DIR, wait_until
from gst_fixture import Gst, Pipeline, solid
from timescale import scaled, scaled_int

KEY = "dd-test-key-4f9a2c"
netns = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)


@pytest.fixture
def gw(gateway_factory, tmp_path):
    def start(*args):
        key_file = tmp_path / "key"
        key_file.write_text(KEY)
        key_file.chmod(0o600)
        return gateway_factory("--api-key-file", str(key_file), *args)

    return start


def control_pipeline(gateway, extra="", tail="whipsink"):
    return Pipeline(
        f"daydreamcontrol name=ctl api-url={gateway.url} api-key={KEY} {extra} "
        f"{solid((255, 0, 0))} ! {tail}"
    )


def states(pipe):
    return [s.get_string("state") for s in pipe.element_messages("daydream-state")]


def gateway_get(gateway, stream_id, suffix=""):
    return requests.get(
        f"{gateway.url}/v1/streams/{stream_id}{suffix}",
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )


@netns
def test_create_publish_patch_and_end(gw):
    gateway = gw()
    pipe = control_pipeline(gateway, 'prompt="oil painting" seed=7')
    pipe.play()
    ctl = pipe.by_name("ctl")
    try:
        pipe.wait_for(lambda p: "ready" in states(p), 20, what="ready")
        stream_id = ctl.get_property("stream-id")
        assert stream_id.startswith("str_")
        assert ctl.get_property("whip-url").startswith(gateway.url)
        assert ctl.get_property("whep-url").endswith("-out/whep")
        params = gateway_get(gateway, stream_id).json()["params"]
        assert params["prompt"] == "oil painting" and params["seed"] == 7
        assert params["model_id"] == "stabilityai/sd-turbo"  # the default config

        # a change while playing reaches the service (debounced PATCH)
        ctl.set_property("prompt", "sepia")
        ctl.set_property("delta", 1.0)
        wait_until(
            lambda: gateway_get(gateway, stream_id, "/status").json()["data"]["inference_status"][
                "last_params"
            ]["prompt"]
            == "sepia",
            10,
            what="the PATCH",
        )
        last = gateway_get(gateway, stream_id, "/status").json()["data"]["inference_status"]
        assert last["last_params"]["delta"] == 1.0
        assert "updated" in states(pipe)
        pipe.pipeline.set_state(Gst.State.READY)
        assert "stopped" in states(pipe)
    finally:
        pipe.stop()
    # ending the pipeline ended the stream
    assert gateway_get(gateway, stream_id).status_code == 404


@netns
def test_create_retries_5xx_then_succeeds(gw):
    gateway = gw("--fail-creates", "2")
    pipe = control_pipeline(gateway)
    pipe.play()
    try:
        pipe.wait_for(lambda p: "created" in states(p), 20, what="created after retries")
        assert not pipe.errors()
    finally:
        pipe.stop()


def test_create_failure_is_an_error_with_the_status(gw):
    gateway = gw("--fail-creates", "10")
    pipe = control_pipeline(gateway, tail="fakesink")
    pipe.play()
    try:
        err, debug = pipe.wait_for(lambda p: p.errors(), 30, what="an error")[0]
        assert "Could not create the Daydream stream" in err.message
        assert "500" in debug and KEY not in debug
    finally:
        pipe.stop()


def test_wrong_key_is_a_clear_error(gw):
    gateway = gw()
    pipe = Pipeline(
        f"daydreamcontrol api-url={gateway.url} api-key=not-{KEY} "
        "videotestsrc is-live=true ! fakesink"
    )
    pipe.play()
    try:
        err, debug = pipe.wait_for(lambda p: p.errors(), 15, what="an error")[0]
        assert "401" in debug and KEY not in debug
    finally:
        pipe.stop()


def test_invalid_config_rejected_before_any_request(gw):
    gateway = gw()
    pipe = control_pipeline(gateway, 'pipeline-config="{\\"params\\": {\\"width\\": 500}}"')
    try:
        assert pipe.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE
        err, _ = pipe.errors()[0]
        assert "params.width" in err.message
    finally:
        pipe.stop()
    assert "created" not in gateway.log_text()


def test_missing_key_is_an_error(gw, monkeypatch):
    gateway = gw()
    monkeypatch.delenv("DAYDREAM_API_KEY", raising=False)
    pipe = Pipeline(f"daydreamcontrol api-url={gateway.url} videotestsrc ! fakesink")
    try:
        assert pipe.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE
        assert "DAYDREAM_API_KEY" in pipe.errors()[0][0].message
    finally:
        pipe.stop()


@netns
def test_never_ready_warns(gw):
    gateway = gw("--never-ready")
    pipe = control_pipeline(gateway, f"ready-timeout={scaled_int(2)}")
    pipe.play()
    try:
        warning, _ = pipe.wait_for(lambda p: p.warnings(), 15, what="a warning")[0]
        assert "not ready" in warning.message
    finally:
        pipe.stop()


@netns
def test_slow_api_still_works(gw):
    gateway = gw("--api-delay", "400")
    pipe = control_pipeline(gateway)
    pipe.play()
    try:
        pipe.wait_for(lambda p: "ready" in states(p), 30, what="ready")
    finally:
        pipe.stop()


@netns
def test_key_never_printed_even_at_debug_level(gw, tmp_path):
    """gst-launch with GST_DEBUG=*:6: the key appears nowhere in its output."""
    gateway = gw()
    env = dict(
        os.environ,
        GST_DEBUG="*:6",
        GST_DEBUG_NO_COLOR="1",
        DAYDREAM_API_URL=gateway.url,
        DAYDREAM_API_KEY=KEY,
        GST_PLUGIN_PATH_1_0=str(BUILD_DIR / "gst"),
    )
    log = tmp_path / "debug.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                "gst-launch-1.0",
                "-m",
                "daydreamcontrol",
                "prompt=x",
                "videotestsrc",
                "is-live=true",
                "!",
                "video/x-raw,width=320,height=240,framerate=30/1",
                "!",
                "whipsink",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: b"state=(string)ready" in log.read_bytes(), 30, 0.2, "ready")
        finally:
            proc.terminate()
            proc.wait(scaled(20))
    output = log.read_bytes()
    assert len(output) > 100_000  # it really logged everything
    assert KEY.encode() not in output


def center_rgb(sink):
    sample = sink.emit("try-pull-sample", 0)
    if sample is None:
        return None
    caps = sample.get_caps().get_structure(0)
    w, h = caps.get_value("width"), caps.get_value("height")
    buf = sample.get_buffer()
    ok, info = buf.map(Gst.MapFlags.READ)
    try:
        stride = len(info.data) // h
        off = (h // 2) * stride + (w // 2) * 3
        return tuple(info.data[off : off + 3])
    finally:
        buf.unmap(info)


@netns
def test_the_issue_line_shows_processed_video_and_follows_the_prompt(gw):
    """daydreamcontrol ... ! whipsink  whepsrc ! videoconvert ! <sink>: the whole loop in
    one gst-launch line; whepsrc starts without an endpoint and gets it from the control."""
    gateway = gw()
    pipe = control_pipeline(
        gateway,
        'prompt="invert" delta=1.0',
        tail="whipsink  whepsrc name=out ! videoconvert ! video/x-raw,format=RGB ! "
        "appsink name=sink max-buffers=1 drop=true sync=false",
    )
    pipe.play()
    sink, ctl = pipe.by_name("sink"), pipe.by_name("ctl")
    try:

        def shows(rgb):
            c = center_rgb(sink)
            return c is not None and all(abs(a - b) <= 45 for a, b in zip(c, rgb))

        pipe.wait_for(lambda p: shows((0, 255, 255)), 30, what="cyan out of whepsrc")
        assert pipe.by_name("out").get_property("whep-endpoint") == ctl.get_property("whep-url")
        ctl.set_property("prompt", "plain")
        ctl.set_property("delta", 0.0)
        pipe.wait_for(lambda p: shows((255, 0, 0)), 20, what="red out of whepsrc")
        assert not pipe.errors()
    finally:
        pipe.stop()
