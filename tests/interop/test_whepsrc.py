"""whepsrc against real WHEP servers: the local gateway and an independent aiortc server.

Peer connections run inside scripts/netns-run only (scripts/test does that); the log check at
the end needs no peer and runs anywhere. Every wait is bounded.
"""

import asyncio
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest
import requests

from drtc_peers import (
    AiortcWhipWhepServer,
    SolidColorTrack,
    WhepSubscriber,
    WhipPublisher,
    close_open_peer_connections,
    color_close,
    in_drtc_netns,
)
from gateway_fixture import BUILD_DIR, wait_until
from gst_fixture import Gst, Pipeline, states
from timescale import scaled, scaled_int

import gi  # noqa: E402  (after gst_fixture: it sets the plugin path first)

gi.require_version("GstApp", "1.0")
from gi.repository import GstApp  # noqa: E402,F401  (appsink's pull methods)

needs_peers = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
CYAN = (0, 255, 255)
TOL = 45
W, H = 320, 240
FAST = "retry-interval=200 max-retry-interval=500"


# --------------------------------------------------------------------------------------------
# helpers


class Loop:
    """An asyncio loop on its own thread, for aiortc peers beside GStreamer's threads."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout=20.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(scaled(timeout))

    def close(self):
        self.run(close_open_peer_connections(), 15)  # those a failed test left open
        self.run(_cancel_other_tasks(), 15)  # aioice's checks of connections now closed
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(scaled(5))
        if not self.thread.is_alive():
            self.loop.close()


async def _cancel_other_tasks():
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def aio():
    loop = Loop()
    yield loop
    loop.close()


def publish(aio, url, rgb=RED, token=None, loop=None):
    """An aiortc WHIP publisher of one colour; stop it with aio.run(pub.stop())."""
    pub = WhipPublisher(SolidColorTrack(W, H, rgb))
    if loop is None:
        aio.run(pub.start(url, token))
    else:
        asyncio.run_coroutine_threadsafe(pub.start(url, token), loop).result(scaled(20))
    return pub


def whepsrc(endpoint, extra="", tail="videoconvert ! video/x-raw,format=RGB"):
    pipe = Pipeline(
        f"whepsrc name=src whep-endpoint={endpoint} {extra} ! {tail} ! "
        "appsink name=sink sync=false max-buffers=1 drop=true"
    )
    pipe.frames = 0
    pipe.sample = None
    pipe.play()
    return pipe


def pull(pipe):
    """Take every sample waiting in the appsink; keep the newest."""
    sink = pipe.by_name("sink")
    sample = sink.try_pull_sample(0)
    while sample is not None:
        pipe.frames += 1
        pipe.sample = sample
        sample = sink.try_pull_sample(0)


def centre_rgb(sample):
    caps = sample.get_caps().get_structure(0)
    width, height = caps.get_value("width"), caps.get_value("height")
    buf = sample.get_buffer()
    ok, info = buf.map(Gst.MapFlags.READ)
    assert ok
    try:
        stride = (width * 3 + 3) // 4 * 4
        rows = np.frombuffer(info.data, np.uint8)[: stride * height].reshape(height, stride)
        rgb = rows[:, : width * 3].reshape(height, width, 3)
        centre = rgb[height // 4 : height * 3 // 4, width // 4 : width * 3 // 4]
        return tuple(float(c) for c in centre.reshape(-1, 3).mean(axis=0))
    finally:
        buf.unmap(info)


def showing(rgb):
    def predicate(pipe):
        pull(pipe)
        return pipe.sample is not None and color_close(centre_rgb(pipe.sample), rgb, TOL)

    return predicate


def state_messages(pipe):
    return pipe.element_messages("whep-state")


def reached(state):
    return lambda pipe: state in states(pipe, "whep-state")


def stats(pipe):
    return pipe.by_name("src").get_property("stats")


def create(gw, params):
    r = requests.post(f"{gw.url}/v1/streams", json={"params": params}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def whep_url(gw, stream):
    return f"{gw.url}/live/video-to-video/{stream['stream_key']}-out/whep"


def viewers(gw, stream):
    r = requests.get(f"{gw.url}/v1/streams/{stream['id']}/status", timeout=10)
    return r.json()["data"]["gateway_status"]["viewers"]


def gst_env():
    env = dict(os.environ)
    env["GST_PLUGIN_PATH_1_0"] = str(BUILD_DIR / "gst")
    env.setdefault("GST_REGISTRY_1_0", str(BUILD_DIR / "tests" / "registry-interop.bin"))
    return env


# --------------------------------------------------------------------------------------------
# against the local gateway


@needs_peers
def test_gateway_colours_follow_the_prompt(gateway_factory, aio):
    """Red in, red out (delta 0); PATCH invert: cyan out. The stats follow."""
    gw = gateway_factory()
    stream = create(gw, {"prompt": "a red card", "delta": 0.0})
    pub = publish(aio, stream["whip_url"])
    pipe = whepsrc(whep_url(gw, stream), FAST)
    try:
        pipe.wait_for(showing(RED), 15, "red frames")
        r = requests.patch(
            f"{gw.url}/v1/streams/{stream['id']}",
            json={"params": {"prompt": "invert", "delta": 1.0}},
            timeout=10,
        )
        assert r.status_code == 200
        pipe.wait_for(showing(CYAN), 10, "cyan frames")
        pipe.wait_for(lambda p: stats(p).get_value("bitrate") > 0, 5, "a bitrate")
        pipe.wait_for(lambda p: stats(p).get_value("frames-decoded") > 10, 5, "frames")
        s = stats(pipe)
        assert s.get_value("state") == "connected"
        assert s.get_value("codec") == "H264"
        assert s.get_value("packets-received") > 0
        assert s.get_value("http-status") == 201
        assert states(pipe, "whep-state")[0] == "connecting"
        assert not pipe.errors()
    finally:
        pipe.stop()
        aio.run(pub.stop())


@needs_peers
def test_gateway_503_then_404_then_ready(gateway_factory, aio):
    """Before any output: 503 (Retry-After honoured), then 404s, then frames once published."""
    gw = gateway_factory("--whep-503", "1")
    stream = create(gw, {"prompt": "x", "delta": 0.0})
    pipe = whepsrc(whep_url(gw, stream), FAST)
    pub = None
    try:
        pipe.wait_for(
            lambda p: any(s.get_uint("http-status")[1] == 404 for s in state_messages(p)),
            10,
            "a 404",
        )
        waits = [s for s in state_messages(pipe) if s.get_string("state") == "waiting"]
        assert waits[0].get_uint("http-status")[1] == 503
        assert waits[0].get_uint("retry-in-ms")[1] >= 1000, "Retry-After: 1"
        pub = publish(aio, stream["whip_url"])
        pipe.wait_for(showing(RED), 15, "red frames")
        assert states(pipe, "whep-state")[-1] == "connected"
    finally:
        pipe.stop()
        if pub:
            aio.run(pub.stop())


@needs_peers
def test_gateway_429_waits_for_a_free_place(gateway_factory, aio):
    """At the viewer limit: 429, waits (longer); in once the other viewer leaves."""
    gw = gateway_factory("--max-viewers", "1", "--viewer-timeout", "2")
    stream = create(gw, {"prompt": "x", "delta": 0.0})
    pub = publish(aio, stream["whip_url"])
    other = WhepSubscriber()
    wait_until(lambda: requests.post(whep_url(gw, stream), timeout=5).status_code != 404, 10)
    aio.run(other.start(whep_url(gw, stream)))
    # a viewer takes its place once connected (until then it is pending)
    wait_until(lambda: viewers(gw, stream) == 1, 10, what="the other viewer connected")
    pipe = whepsrc(whep_url(gw, stream), FAST + " busy-retry-interval=800")
    try:
        pipe.wait_for(
            lambda p: any(s.get_uint("http-status")[1] == 429 for s in state_messages(p)),
            10,
            "a 429",
        )
        busy = [s for s in state_messages(pipe) if s.get_uint("http-status")[1] == 429]
        assert busy[0].get_string("state") == "waiting"
        assert busy[0].get_uint("retry-in-ms")[1] >= 5000, "the gateway says Retry-After: 5"
        aio.run(other.stop())
        pipe.wait_for(showing(RED), 20, "red frames once the place is free")
    finally:
        pipe.stop()
        aio.run(pub.stop())


@needs_peers
def test_gateway_counter_offer_is_answered_by_patch(gateway_factory, aio):
    """406 + the gateway's offer: whepsrc answers with a PATCH, plays, DELETEs on stop."""
    gw = gateway_factory("--whep-counter-offer")
    stream = create(gw, {"prompt": "x", "delta": 0.0})
    pub = publish(aio, stream["whip_url"])
    pipe = whepsrc(whep_url(gw, stream), FAST)
    try:
        pipe.wait_for(showing(RED), 15, "red frames")
        assert stats(pipe).get_value("http-status") == 204, "the PATCH was answered"
        assert viewers(gw, stream) == 1
    finally:
        pipe.stop()
    try:
        # the counter-offer came with a Location: stopping DELETEs it at once
        assert viewers(gw, stream) == 0
        assert "counter-offer to viewer" in gw.log_text()
    finally:
        aio.run(pub.stop())


@needs_peers
def test_gateway_bad_answer_is_an_element_error(gateway_factory, aio):
    gw = gateway_factory("--whep-bad-answer")
    stream = create(gw, {"prompt": "x", "delta": 0.0})
    pub = publish(aio, stream["whip_url"])
    pipe = whepsrc(whep_url(gw, stream), FAST)
    try:
        pipe.wait_for(lambda p: p.errors(), 15, "an error")
        err, debug = pipe.errors()[0]
        assert "unusable SDP answer" in err.message
        assert "no video codec" in debug
        assert states(pipe, "whep-state")[-1] == "failed"
    finally:
        pipe.stop()
        aio.run(pub.stop())


@needs_peers
def test_gateway_stall_asks_for_a_keyframe_and_recovers(gateway_factory, aio):
    """The publisher goes: output stalls, whepsrc sends PLIs; a new publisher: frames again."""
    gw = gateway_factory()
    stream = create(gw, {"prompt": "x", "delta": 0.0})
    pub = publish(aio, stream["whip_url"])
    pipe = whepsrc(whep_url(gw, stream), FAST + " stall-timeout=300 media-timeout=20000")
    try:
        pipe.wait_for(showing(RED), 15, "red frames")
        asked = gw.log_text().count("asked for a keyframe")
        aio.run(pub.stop())
        pipe.wait_for(lambda p: stats(p).get_value("keyframe-requests") >= 2, 10, "PLIs")
        wait_until(lambda: gw.log_text().count("asked for a keyframe") > asked, 5, what="PLI")
        pub = publish(aio, stream["whip_url"], GREEN)
        pipe.wait_for(showing(GREEN), 15, "green frames")
        assert stats(pipe).get_value("reconnects") == 0
    finally:
        pipe.stop()
        aio.run(pub.stop())


@needs_peers
def test_gst_launch_line_from_the_issue(gateway_factory, aio):
    gw = gateway_factory()
    stream = create(gw, {"prompt": "x", "delta": 0.0})
    pub = publish(aio, stream["whip_url"])
    proc = subprocess.Popen(
        ["gst-launch-1.0", "-v", "-m", "whepsrc", f"whep-endpoint={whep_url(gw, stream)}", "!"]
        + ["videoconvert", "!", "fakesink", "silent=false"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=gst_env(),
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + scaled(15)
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "chain" in line and "fakesink0" in line:  # a decoded frame reached the sink
                break
        else:
            pytest.fail("no frame:\n" + "".join(lines[-30:]))
        assert any("state=(string)connected" in line for line in lines)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=scaled(10))
        aio.run(pub.stop())
    assert proc.returncode == 0


# --------------------------------------------------------------------------------------------
# against the independent aiortc server


@needs_peers
def test_aiortc_404_then_frames_with_token_and_delete():
    server = AiortcWhipWhepServer(required_token="s3cret", whep_requires_token=True)
    with server.run_in_thread() as srv:
        pipe = whepsrc(srv.whep_url, FAST + " auth-token=s3cret")
        pub = None
        try:
            pipe.wait_for(reached("waiting"), 10, "404: nothing published yet")
            pub = publish(None, srv.whip_url, BLUE, "s3cret", srv._loop)
            pipe.wait_for(showing(BLUE), 15, "blue frames")
        finally:
            pipe.stop()
        posts = srv.requests_for("POST", "/whep")
        assert [r.status for r in posts][-1] == 201 and 404 in [r.status for r in posts]
        assert all(r.header("Authorization") == "Bearer s3cret" for r in posts)
        wait_until(lambda: srv.deleted, 5, what="the DELETE")
        assert srv.deleted[0].startswith("/whep/")
        asyncio.run_coroutine_threadsafe(pub.stop(), srv._loop).result(scaled(10))


@needs_peers
def test_aiortc_server_restart_reconnects():
    first = AiortcWhipWhepServer()
    ctx = first.run_in_thread()
    srv = ctx.__enter__()
    port = srv.port
    pipe = whepsrc(srv.whep_url, FAST + " media-timeout=1000 stall-timeout=300")
    try:
        publish(None, srv.whip_url, RED, loop=srv._loop)
        pipe.wait_for(showing(RED), 15, "red frames")
        ctx.__exit__(None, None, None)  # the server goes away, sessions and all
        pipe.wait_for(reached("reconnecting"), 10, "reconnecting")
        with AiortcWhipWhepServer(port=port).run_in_thread() as again:
            publish(None, again.whip_url, GREEN, loop=again._loop)
            pipe.wait_for(showing(GREEN), 20, "green frames from the new server")
            s = stats(pipe)
            assert s.get_value("reconnects") >= 1
            assert s.get_value("state") == "connected"
            pipe.stop()
    finally:
        pipe.stop()
    assert not pipe.errors()


@needs_peers
def test_aiortc_vp8_and_undecoded_h264():
    with AiortcWhipWhepServer().run_in_thread() as srv:
        pub = publish(None, srv.whip_url, BLUE, loop=srv._loop)
        pipe = whepsrc(srv.whep_url, FAST + ' video-caps="video/x-vp8"')
        try:
            pipe.wait_for(showing(BLUE), 15, "blue VP8 frames")
            assert stats(pipe).get_value("codec") == "VP8"
        finally:
            pipe.stop()
        pipe = whepsrc(srv.whep_url, FAST + " decode=false", tail="video/x-h264")
        try:
            pipe.wait_for(lambda p: pull(p) or p.frames >= 5, 15, "H.264 access units")
            caps = pipe.sample.get_caps().get_structure(0)
            assert caps.get_name() == "video/x-h264"
            assert stats(pipe).get_value("frames-decoded") == 0
        finally:
            pipe.stop()
        asyncio.run_coroutine_threadsafe(pub.stop(), srv._loop).result(scaled(10))


# --------------------------------------------------------------------------------------------
# no peer needed


def test_logs_name_the_host_but_never_the_token_or_path(gateway_factory):
    """GST_DEBUG=whepsrc:9 while an unknown stream key 404s until connect-timeout."""
    gw = gateway_factory()
    limit = scaled_int(1)
    url = f"{gw.url}/live/video-to-video/stk_SECRETKEY-out/whep"
    env = gst_env()
    env["GST_DEBUG"] = "whepsrc:9"
    env["GST_DEBUG_NO_COLOR"] = "1"
    out = subprocess.run(
        ["gst-launch-1.0", "whepsrc", f"whep-endpoint={url}", "auth-token=s3cret"]
        + [f"connect-timeout={limit}", "retry-interval=100", "ice-local-addresses=127.0.0.1"]
        + ["!", "fakesink"],
        capture_output=True,
        text=True,
        env=env,
        timeout=scaled(30),
    )
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert f"within {limit} s" in text
    assert "127.0.0.1" in text and "HTTP 404" in text
    assert "s3cret" not in text
    assert "SECRETKEY" not in text
