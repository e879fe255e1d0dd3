"""Self-tests of drtc_peers: the aiortc peers against AiortcWhipWhepServer.

Peer connections run only inside scripts/netns-run (detected by the drtc0 veth, or
DRTC_NETNS=1):  scripts/netns-run /usr/bin/python3 -m pytest -q tests/interop
"""

import fractions
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from drtc_peers import (  # noqa: E402
    AiortcWhipWhepServer,
    MovingPatternTrack,
    SolidColorTrack,
    WhepError,
    WhepSubscriber,
    WhipError,
    WhipPublisher,
    codec_preferences,
    color_close,
    in_drtc_netns,
    run_peers,
)

RED = (255, 0, 0)
BLUE = (0, 0, 255)
TOL = 40  # per channel, after H.264 4:2:0 round trips
W, H = 160, 120

netns = pytest.mark.skipif(
    not in_drtc_netns(),
    reason="peer connections run only inside scripts/netns-run (or with DRTC_NETNS=1)",
)


def run(coro, timeout=30.0):
    """Run one test body in a fresh loop, never longer than ``timeout``; peers closed after."""
    return run_peers(coro, timeout)


def video_codecs(sdp):
    return {line.split()[1].split("/")[0] for line in sdp.splitlines() if "a=rtpmap:" in line}


# -- no peer connection needed ------------------------------------------------------------


def test_tracks_pts_and_colour():
    async def body():
        track = SolidColorTrack(W, H, RED, fps=30)
        frames = [await track.recv() for _ in range(3)]
        assert [f.pts for f in frames] == [0, 3000, 6000]
        assert all(f.time_base == fractions.Fraction(1, 90000) for f in frames)
        assert (frames[0].width, frames[0].height) == (W, H)
        assert color_close(frames[0].to_ndarray(format="rgb24")[0, 0], RED, 3)
        track.set_color(BLUE)
        assert color_close((await track.recv()).to_ndarray(format="rgb24").mean((0, 1)), BLUE, 3)
        pattern = MovingPatternTrack(W, H, fps=60)
        a, b = await pattern.recv(), await pattern.recv()
        assert (a.pts, b.pts) == (0, 1500)
        assert (a.to_ndarray(format="rgb24") != b.to_ndarray(format="rgb24")).any()

    run(body(), 5)


def test_codec_preferences():
    names = [c.mimeType for c in codec_preferences("video", ["H264"])]
    assert "video/VP8" not in names and names[0] == "video/H264"
    assert codec_preferences("video", ["H264"])[0].parameters["profile-level-id"] == "42e01f"
    with_vp8 = [c.mimeType for c in codec_preferences("video", ["H264", "VP8"], receive=True)]
    assert with_vp8.index("video/VP8") > with_vp8.index("video/H264")


# -- peers against the server ------------------------------------------------------------------


@netns
def test_whep_404_before_publisher():
    async def body():
        async with AiortcWhipWhepServer() as server:
            sub = WhepSubscriber()
            with pytest.raises(WhepError) as err:
                await sub.start(server.whep_url)
            assert err.value.status == 404
            assert sub.pc is None  # closed on failure
            assert server.requests_for("POST", "/whep")[0].status == 404

    run(body(), 15)


@netns
def test_red_reaches_server_and_delete_on_stop():
    async def body():
        async with AiortcWhipWhepServer() as server:
            pub = WhipPublisher(SolidColorTrack(W, H, RED))
            try:
                await pub.start(server.whip_url)
                assert pub.status == 201
                assert pub.location.startswith(server.url + "/whip/")
                assert pub.etag and pub.playback_url == server.whep_url
                assert video_codecs(pub.offer_sdp) >= {"H264"}
                assert "VP8" not in video_codecs(pub.offer_sdp)
                assert "a=end-of-candidates" in pub.answer_sdp  # non-trickle answer
                assert pub.negotiated_codec == "video/H264"
                await pub.wait_connected(10)
                await server.wait_for_frames(10, 10)
                assert server.last_frame_size == (W, H)
                assert color_close(server.mean_rgb(), RED, TOL), server.mean_rgb()
                post = server.requests_for("POST", "/whip")[0]
                assert post.header("Content-Type") == "application/sdp"
            finally:
                await pub.stop()
            assert pub.delete_status == 200
            path = pub.location[len(server.url) :]
            assert server.deleted == [path]
            assert server.requests_for("DELETE")[0].path == path
            assert not server.publishing

    run(body(), 25)


@netns
def test_subscriber_sees_colour_change_threaded_server():
    async def body(server):
        track = SolidColorTrack(W, H, RED)
        pub, sub = WhipPublisher(track), WhepSubscriber()
        try:
            await pub.start(server.whip_url)
            await server.wait_for_frames(3, 10)
            await sub.start(server.whep_url)
            assert sub.status == 201 and sub.location.startswith(server.url + "/whep/")
            assert sub.negotiated_codec == "video/H264"
            assert color_close(await sub.wait_for_color(RED, TOL, timeout=10), RED, TOL)
            assert sub.frame_size == (W, H)
            t0 = time.monotonic()
            track.set_color(BLUE)
            await sub.wait_for_color(BLUE, TOL, timeout=5)
            await server.wait_for_color(BLUE, TOL, timeout=5)
            print(f"blue seen by the subscriber after {time.monotonic() - t0:.2f} s")
            n = sub.frames_received
            await sub.wait_frames(n + 5, 5)
            assert len(sub.arrivals) == sub.frames_received
            x, y = W // 4, H // 4
            assert color_close(sub.mean_rgb((x, y, W // 2, H // 2)), BLUE, TOL)
        finally:
            await sub.stop()
            await pub.stop()
        assert sub.delete_status == 200 and pub.delete_status == 200
        assert [p.split("/")[1] for p in server.deleted] == ["whep", "whip"]

    with AiortcWhipWhepServer().run_in_thread() as server:
        assert server.port > 0
        run(body(server), 30)
    assert server._runner is None


@netns
def test_token_required():
    async def body():
        async with AiortcWhipWhepServer(required_token="s3cret") as server:
            with pytest.raises(WhipError) as err:
                await WhipPublisher(SolidColorTrack(W, H, RED)).start(server.whip_url)
            assert err.value.status == 401 and "401" in str(err.value)
            with pytest.raises(WhipError) as err:
                await WhipPublisher(SolidColorTrack(W, H, RED)).start(server.whip_url, "wrong")
            assert err.value.status == 401
            pub = WhipPublisher(SolidColorTrack(W, H, RED))
            try:
                await pub.start(server.whip_url, token="s3cret")
                assert pub.status == 201
            finally:
                await pub.stop()
            assert pub.delete_status == 200
            auth = [r.header("Authorization") for r in server.requests]
            assert auth == [None, "Bearer wrong", "Bearer s3cret", "Bearer s3cret"]

    run(body(), 15)


@netns
def test_redirect_keeps_authorization():
    async def body():
        async with AiortcWhipWhepServer(required_token="tok", redirect_first=True) as server:
            pub = WhipPublisher(SolidColorTrack(W, H, RED))
            try:
                await pub.start(server.whip_url, token="tok")
                assert pub.redirects == [(307, server.url + "/whip2")]
                assert pub.request_url == server.url + "/whip2"
                assert pub.location.startswith(server.url + "/whip/")
                posts = server.requests_for("POST")
                assert [(r.path, r.status) for r in posts] == [("/whip", 307), ("/whip2", 201)]
                assert all(r.header("Authorization") == "Bearer tok" for r in posts)
                assert posts[0].body == posts[1].body  # the offer was re-sent unchanged
                await server.wait_for_frames(3, 10)
            finally:
                await pub.stop()
            assert pub.delete_status == 200

    run(body(), 20)


@netns
def test_trickle_patch():
    async def body(trickle, expected):
        async with AiortcWhipWhepServer(trickle=trickle) as server:
            pub = WhipPublisher(SolidColorTrack(W, H, RED))
            try:
                await pub.start(server.whip_url)
                assert await pub.patch_sdpfrag() == expected
                if trickle:
                    assert await pub.patch_sdpfrag(if_match='"stale"') == 412
                    path, frag = server.patches[0]
                    assert pub.location.endswith(path) and "a=candidate:" in frag
                    assert server.requests_for("PATCH")[0].header("If-Match") == pub.etag
            finally:
                await pub.stop()

    run(body(True, 204), 15)
    run(body(False, 405), 15)


def test_h264_patch_gop_and_pli():
    from aiortc.codecs.h264 import H264Encoder

    from drtc_peers import install_h264_keyframe_patch

    install_h264_keyframe_patch(5)
    try:

        async def frames():
            track = SolidColorTrack(W, H, RED)
            return [await track.recv() for _ in range(12)]

        encoder = H264Encoder()

        def nal_types(payload):
            kind = payload[0] & 0x1F
            if kind == 28:  # FU-A: the type is in the FU header
                return [payload[1] & 0x1F]
            if kind != 24:
                return [kind]
            types, pos = [], 1  # STAP-A: 16-bit size + NAL, repeated
            while pos + 2 < len(payload):
                size = int.from_bytes(payload[pos : pos + 2], "big")
                types.append(payload[pos + 2] & 0x1F)
                pos += 2 + size
            return types

        def starts_idr(frame, force=False):
            payloads, _ = encoder.encode(frame, force)
            return any(5 in nal_types(p) for p in payloads)  # 5: IDR slice

        fs = run(frames(), 5)
        idr = [starts_idr(f) for f in fs[:11]]
        assert idr == [True, False, False, False, False, True, False, False, False, False, True]
        assert starts_idr(fs[11], force=True)  # PLI honoured (P-frame otherwise)
    finally:
        install_h264_keyframe_patch(30)


@netns
def test_keyframes_reach_server():
    async def body():
        async with AiortcWhipWhepServer(keyframe_interval=None) as server:
            pub = WhipPublisher(SolidColorTrack(W, H, RED, fps=30), keyframe_interval=10)
            try:
                await pub.start(server.whip_url)
                await server.wait_for_frames(25, 10)
                assert server.keyframes_received >= 3, server.keyframes_received
            finally:
                await pub.stop()

    try:
        run(body(), 20)
    finally:
        from drtc_peers import install_h264_keyframe_patch

        install_h264_keyframe_patch(30)


@netns
def test_pinned_loopback(monkeypatch):
    from drtc_peers import pin_host_addresses

    pin_host_addresses(["127.0.0.1"], monkeypatch)

    async def body():
        async with AiortcWhipWhepServer() as server:
            pub = WhipPublisher(SolidColorTrack(W, H, BLUE))
            try:
                await pub.start(server.whip_url)
                for sdp in (pub.offer_sdp, pub.answer_sdp):
                    cands = [ln.split()[4] for ln in sdp.splitlines() if "a=candidate:" in ln]
                    assert cands and set(cands) == {"127.0.0.1"}, cands
                await server.wait_for_color(BLUE, TOL, timeout=10)
            finally:
                await pub.stop()

    run(body(), 20)
