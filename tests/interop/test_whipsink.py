"""whipsink against real WHIP endpoints: the local gateway (both modes) and an aiortc server.

Peer connections: inside scripts/netns-run only (scripts/test does that).
"""


import pytest
import requests

from drtc_peers import (
    AiortcWhipWhepServer,
    WhepSubscriber,
    color_close,
    in_drtc_netns,
    run_peers,
)
from gateway_fixture import wait_until
from gst_fixture import Gst, Pipeline, solid, states
from timescale import scaled, scaled_int

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)

RED = (255, 0, 0)
BLUE = (0, 0, 255)
TOL = 45


def create(gw, params):
    r = requests.post(f"{gw.url}/v1/streams", json={"params": params}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def gateway_status(gw, stream):
    return requests.get(f"{gw.url}/v1/streams/{stream['id']}/status", timeout=10).json()["data"]


def publish(endpoint, rgb=RED, extra=""):
    pipe = Pipeline(f"{solid(rgb)} ! whipsink name=sink whip-endpoint={endpoint} {extra}")
    pipe.play()
    return pipe


def connected(pipe):
    return "connected" in states(pipe)


def test_gateway_loop_colours_and_urls(gateway_factory):
    """Red published by whipsink comes out of the gateway red (delta 0), seen by aiortc."""
    gw = gateway_factory()
    stream = create(gw, {"prompt": "plain", "delta": 0.0})
    pipe = publish(stream["whip_url"])
    try:
        pipe.wait_for(connected, what="whip-state connected")
        sink = pipe.by_name("sink")
        whep = f"{gw.url}/live/video-to-video/{stream['stream_key']}-out/whep"
        assert sink.get_property("playback-url") == whep
        assert sink.get_property("resource-url").startswith(stream["whip_url"] + "/")
        wait_until(lambda: gateway_status(gw, stream)["state"] == "ONLINE", 15, what="ONLINE")

        async def watch():
            sub = WhepSubscriber()
            await sub.start(whep)
            await sub.wait_for_color(RED, tolerance=TOL, timeout=15)
            await sub.stop()

        run_peers(watch(), 30)
        stats = sink.get_property("stats")
        assert stats.get_value("frames-sent") > 10
        assert stats.get_value("state") == "connected"
        assert stats.get_value("bytes-sent") > 0
    finally:
        pipe.stop()
    assert gateway_status(gw, stream)["inference_status"]["input_fps"] >= 0


def test_aiortc_server_gets_colours_auth_redirect_and_delete():
    server = AiortcWhipWhepServer(required_token="s3cret", redirect_first=True)
    with server.run_in_thread() as srv:
        pipe = publish(srv.whip_url, RED, "auth-token=s3cret")
        try:
            pipe.wait_for(connected, what="connected")
            wait_until(
                lambda: srv.last_mean_rgb and color_close(srv.last_mean_rgb, RED, TOL),
                15,
                what="red frames at the server",
            )
            posts = srv.requests_for("POST")
            # 307 followed with the method, the body and Authorization kept
            assert [p.path for p in posts[:2]] == ["/whip", "/whip2"]
            assert all(p.header("Authorization") == "Bearer s3cret" for p in posts[:2])
            assert posts[1].header("Content-Type") == "application/sdp"
            assert "a=candidate" in posts[1].body  # full offer: gathering waited for
            # the relative Location is resolved against the URL that answered
            resource = pipe.by_name("sink").get_property("resource-url")
            assert resource.startswith(srv.url + "/whip/")
            # stopping DELETEs the session, with the token (READY: the bus still
            # delivers; going to NULL flushes it)
            pipe.pipeline.set_state(Gst.State.READY)
            assert states(pipe)[-1] == "closed"
        finally:
            pipe.stop()
        assert srv.deleted, srv.requests
        delete = srv.requests_for("DELETE")[0]
        assert delete.header("Authorization") == "Bearer s3cret"


def test_wrong_token_is_a_clear_error():
    server = AiortcWhipWhepServer(required_token="right")
    with server.run_in_thread() as srv:
        pipe = publish(srv.whip_url, RED, "auth-token=tok-XYZ123")
        try:
            errors = pipe.wait_for(lambda p: p.errors(), what="an error")
            err, debug = errors[0]
            assert "401" in err.message
            assert "tok-XYZ123" not in (debug or "") and "tok-XYZ123" not in err.message
            # posted right after the error: wait for it rather than race it
            pipe.wait_for(lambda p: "failed" in states(p), what="whip-state failed")
        finally:
            pipe.stop()


def test_missing_endpoint_fails_at_ready():
    pipe = Pipeline("videotestsrc ! whipsink name=sink")
    try:
        assert pipe.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE
        assert "whip-endpoint" in pipe.errors()[0][0].message
    finally:
        pipe.stop()


def test_refused_codec_is_an_error(gateway_factory):
    """A 4xx answer (here 404: no such stream key) stops with an error, no retry loop."""
    gw = gateway_factory()
    pipe = publish(f"{gw.url}/live/video-to-video/stk_nope/whip")
    try:
        err, _ = pipe.wait_for(lambda p: p.errors(), what="an error")[0]
        assert "404" in err.message
        assert "reconnecting" not in states(pipe)
    finally:
        pipe.stop()


def test_reconnects_after_the_server_drops_it(gateway_factory):
    gw = gateway_factory(
        "--drop-publisher-after", str(scaled(1.5)), "--publisher-timeout", str(scaled_int(1))
    )
    stream = create(gw, {"prompt": "plain", "delta": 0.0})
    pipe = publish(stream["whip_url"])
    try:
        pipe.wait_for(connected, what="connected")
        pipe.wait_for(lambda p: "reconnecting" in states(p), 30, what="reconnecting")
        # after the drop a new session comes up and the gateway gets frames again
        pipe.wait_for(lambda p: states(p).count("connected") >= 2, 30, what="reconnected")
        wait_until(lambda: gateway_status(gw, stream)["state"] == "ONLINE", 15, what="ONLINE")
        wait_until(
            lambda: gateway_status(gw, stream)["inference_status"]["input_fps"] > 10,
            10,
            what="frames at the gateway again",
        )
        assert not pipe.errors()
    finally:
        pipe.stop()


def test_rfc_mode_trickle_on(gateway_factory):
    gw = gateway_factory("--mode", "rfc")
    stream = create(gw, {"prompt": "plain", "delta": 0.0})
    pipe = publish(stream["whip_url"], RED, "trickle=on")
    try:
        pipe.wait_for(connected, what="connected with trickle")
        assert not pipe.warnings()
    finally:
        pipe.stop()
    # rfc mode honours the DELETE sent on stop
    wait_until(lambda: gateway_status(gw, stream)["state"] == "OFFLINE", 10, what="OFFLINE")


def test_trickle_on_against_daydream_warns(gateway_factory):
    gw = gateway_factory()
    stream = create(gw, {"prompt": "plain"})
    pipe = publish(stream["whip_url"], RED, "trickle=on")
    try:
        warnings = pipe.wait_for(lambda p: p.warnings(), 20, what="a warning")
        assert "trickle" in warnings[0][0].message
    finally:
        pipe.stop()


def test_h264_input_is_passed_through():
    server = AiortcWhipWhepServer()
    with server.run_in_thread() as srv:
        pipe = Pipeline(
            f"{solid(BLUE)} ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
            f"video/x-h264,profile=constrained-baseline ! whipsink name=sink "
            f"whip-endpoint={srv.whip_url}"
        )
        pipe.play()
        try:
            wait_until(
                lambda: srv.last_mean_rgb and color_close(srv.last_mean_rgb, BLUE, TOL),
                15,
                what="blue frames",
            )
            # no second encoder inside the bin
            names = [e.get_factory().get_name() for e in pipe.by_name("sink").iterate_elements()]
            assert "x264enc" not in names
        finally:
            pipe.stop()


def test_trickle_on_sends_candidates_by_patch():
    server = AiortcWhipWhepServer(trickle=True)
    with server.run_in_thread() as srv:
        pipe = publish(srv.whip_url, RED, "trickle=on")
        try:
            pipe.wait_for(connected, what="connected")
            wait_until(lambda: srv.patches, 10, what="a PATCH")
            path, frag = srv.patches[0]
            assert path.startswith("/whip/") and "a=candidate:" in frag
            patch = srv.requests_for("PATCH")[0]
            assert patch.header("Content-Type") == "application/trickle-ice-sdpfrag"
            assert patch.header("If-Match")  # the ETag of the 201
            # the offer itself went out before gathering finished
            assert "a=candidate" not in srv.requests_for("POST")[0].body
        finally:
            pipe.stop()


def test_end_of_stream_ends_the_pipeline():
    server = AiortcWhipWhepServer()
    with server.run_in_thread() as srv:
        pipe = Pipeline(
            "videotestsrc is-live=true num-buffers=45 ! "
            "video/x-raw,width=320,height=240,framerate=30/1 ! "
            f"whipsink whip-endpoint={srv.whip_url}"
        )
        pipe.play()
        try:
            pipe.wait_for(
                lambda p: any(m.type == Gst.MessageType.EOS for m in p.messages), 15, what="EOS"
            )
            assert srv.frames_received > 0
        finally:
            pipe.stop()
