"""Gateway sessions (issue 15, section 5): the key guards WHIP and WHEP too, and WHEP viewers
that never connect hold no viewer slot.

Real gateway, real peers (aiortc) and our real serve: netns-run only.
"""

import asyncio
import json
import socket

import pytest
import requests

from drtc_peers import (
    SolidColorTrack,
    WhepError,
    WhepSubscriber,
    WhipError,
    WhipPublisher,
    color_close,
    in_drtc_netns,
    new_peer_connection,
    run_peers,
)
from gateway_fixture import wait_until
from test_gateway_media import CENTRE, RED, TOL, H, W, sendonly_offer
from test_serve_media import Pusher, start_body, whep_rgb

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)

KEY = "gw-key-7d41e0c9b2"
AUTH = {"Authorization": f"Bearer {KEY}"}
SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
def keyed(gateway_factory, tmp_path):
    """A gateway that requires KEY (from a 0600 file)."""

    def start(*args):
        key_file = tmp_path / "gateway.key"
        key_file.write_text(KEY + "\n")
        key_file.chmod(0o600)
        return gateway_factory("--api-key-file", str(key_file), *args)

    return start


def create(gw, headers=None):
    r = requests.post(
        f"{gw.url}/v1/streams",
        json={"params": {"prompt": "x", "delta": 0.0}},
        headers=headers or {},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()


def status(gw, stream, headers=None):
    r = requests.get(f"{gw.url}/v1/streams/{stream['id']}/status", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def whep_url(gw, stream):
    return f"{gw.url}/live/video-to-video/{stream['stream_key']}-out/whep"


async def in_thread(func, *args):
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)


async def wait_online(gw, stream, headers=None):
    def online():
        return status(gw, stream, headers)["state"] == "ONLINE"

    await in_thread(wait_until, online, 20, 0.1, "the stream ONLINE")


async def recvonly_offer(candidates=True):
    """A WHEP viewer's H.264 offer, gathered, from a peer closed before the answer: a viewer
    that will never connect. Without its candidates the gateway's ICE never even fails: only
    the connect deadline ends it."""
    pc = new_peer_connection()
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    if not candidates:
        sdp = "".join(x for x in sdp.splitlines(True) if not x.startswith("a=candidate"))
    return sdp


def assert_json_refusal(r, status_code):
    assert r.status_code == status_code, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["success"] is False and body["error"], body
    return body


def unsent_body_answer(url, path, length):
    """The status line the gateway answers to a POST head announcing `length` bytes and
    waiting for 100 Continue: an answer decided before the body is read comes at once."""
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Content-Type: application/sdp\r\nExpect: 100-continue\r\n"
                f"Content-Length: {length}\r\n\r\n"
            ).encode()
        )
        return sock.recv(4096).decode(errors="replace").split("\r\n")[0]


@pytest.mark.parametrize("mode", ["daydream", "rfc"])
def test_keyed_gateway_refuses_whip_and_whep_without_the_key(keyed, mode):
    """With a key, WHIP and WHEP requests without it (or with another) get 401 in JSON, before
    their body is read; the live publisher keeps streaming to its viewer meanwhile."""
    gw = keyed("--mode", mode)
    stream = create(gw, AUTH)
    wurl = whep_url(gw, stream)

    async def body():
        pub = WhipPublisher(SolidColorTrack(W, H, RED))
        await pub.start(stream["whip_url"], token=KEY)
        await wait_online(gw, stream, AUTH)
        sub = WhepSubscriber()
        await sub.start(wurl, token=KEY)
        await sub.wait_for_color(RED, tolerance=TOL, timeout=15, region=CENTRE)

        takeover = await sendonly_offer()
        viewer = await recvonly_offer()
        for headers in ({}, {"Authorization": "Bearer not-the-key"}, {"Authorization": KEY}):
            for url, sdp in ((stream["whip_url"], takeover), (wurl, viewer)):
                r = await in_thread(
                    lambda: requests.post(url, data=sdp, headers={**SDP, **headers}, timeout=10)
                )
                assert_json_refusal(r, 401)
                assert r.headers.get("WWW-Authenticate") == "Bearer"
        # what aiortc peers see, without a token
        with pytest.raises(WhipError) as err:
            await WhipPublisher(SolidColorTrack(W, H, RED)).start(stream["whip_url"])
        assert err.value.status == 401
        with pytest.raises(WhepError) as err:
            await WhepSubscriber().start(wurl)
        assert err.value.status == 401
        # refused before the body: 64 MiB announced, none sent, and the answer comes
        for path in (stream["whip_url"], wurl):
            line = await in_thread(unsent_body_answer, gw.url, path[len(gw.url) :], 64 << 20)
            assert line.startswith("HTTP/1.1 401"), line
        if mode == "rfc":  # the session's own resource, PATCH and DELETE
            for method in ("PATCH", "DELETE"):
                r = await in_thread(
                    lambda: requests.request(
                        method,
                        pub.location,
                        data="a=end-of-candidates\r\n",
                        headers={"Content-Type": "application/trickle-ice-sdpfrag"},
                        timeout=10,
                    )
                )
                assert_json_refusal(r, 401)

        data = await in_thread(status, gw, stream, AUTH)
        assert data["state"] == "ONLINE", data
        assert data["gateway_status"]["publisher_sessions"] == 1, data
        assert data["gateway_status"]["viewers"] == 1, data
        seen = sub.frames_received
        await sub.wait_frames(seen + 30, timeout=15)
        await sub.wait_for_color(RED, tolerance=TOL, timeout=5, region=CENTRE)
        if mode == "rfc":
            assert await pub.patch_sdpfrag() == 204  # with the key: still its session
        assert "publisher gone" not in gw.log_text()
        await sub.stop()
        await pub.stop()

    run_peers(body(), 90)
    assert KEY not in gw.log_text()


def test_keyed_gateway_end_to_end_through_serve(keyed, serve_factory):
    """serve (its API key the gateway's) publishes to the keyed gateway and subscribes to its
    output: both with the key, which serve sends only to the API's own origin."""
    gw = keyed()
    s = serve_factory(env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": KEY})
    r = requests.post(f"{s.url}/start", json=start_body("plain", 0.0), timeout=30)
    assert r.status_code == 200, r.text
    pusher = Pusher(f"{s.url}/frames", RED)
    pusher.start()
    try:
        st = wait_until(
            lambda: (x := requests.get(f"{s.url}/status", timeout=5).json())["whep_url"] and x,
            30,
            0.2,
            "the WHEP URL in serve's status",
        )
        r = requests.post(f"{s.url}/whep/connect", json={"whep_url": st["whep_url"]}, timeout=5)
        assert r.status_code == 200, r.text
        wait_until(
            lambda: (c := whep_rgb(s.url)) is not None and color_close(c, RED, TOL),
            30,
            0.2,
            "the processed output back through serve's WHEP subscription",
        )
        gws = status(gw, {"id": st["stream_id"]}, AUTH)["gateway_status"]
        assert gws["publisher_sessions"] == 1 and gws["viewers"] == 1, gws
    finally:
        pusher.running = False
        pusher.join(10)
    assert " 401" not in s.log_text() and KEY not in s.log_text()
    assert KEY not in gw.log_text()


def test_whep_offers_that_never_connect_hold_no_viewer_slot(gateway_factory):
    """Answered WHEP offers whose peer never connects are pending: they take no viewer slot
    (real viewers still connect), their number is bounded (503, Retry-After, JSON), they are
    dropped after --viewer-connect-timeout (default), and the real viewers stream on throughout."""
    gw = gateway_factory("--max-viewers", "2", "--max-pending-viewers", "3")
    stream = create(gw)
    wurl = whep_url(gw, stream)

    def post(sdp):
        return requests.post(wurl, data=sdp, headers=SDP, timeout=15)

    def gateway_status():
        return status(gw, stream)["gateway_status"]

    async def body():
        pub = WhipPublisher(SolidColorTrack(W, H, RED))
        await pub.start(stream["whip_url"])
        await wait_online(gw, stream)
        offers = [await recvonly_offer(candidates=False) for _ in range(6)]

        # as many fakes as there are viewer slots: answered, and a real viewer still connects
        for sdp in offers[:2]:
            r = await in_thread(post, sdp)
            assert r.status_code == 201, (r.status_code, r.text)
        answered = 2
        first = WhepSubscriber()
        await first.start(wurl)
        await first.wait_for_color(RED, tolerance=TOL, timeout=15, region=CENTRE)
        await in_thread(
            wait_until, lambda: gateway_status()["viewers"] == 1, 10, 0.1, "a viewer in a slot"
        )

        # more fakes: at most 3 pending at once, then 503 with Retry-After
        refused = None
        for sdp in offers[2:]:
            r = await in_thread(post, sdp)
            if r.status_code == 503:
                refused = r
                break
            assert r.status_code == 201, (r.status_code, r.text)
            answered += 1
        assert refused is not None, "the pending bound never answered 503"
        assert refused.headers.get("Retry-After"), refused.headers
        assert "still connecting" in assert_json_refusal(refused, 503)["error"]
        assert gateway_status()["pending_viewers"] <= 3

        # the fakes go after their deadline; the real viewer stays, and streams on
        await in_thread(
            wait_until,
            lambda: gw.log_text().count("(never connected)") >= answered
            and gateway_status()["pending_viewers"] == 0,
            60,
            0.2,
            "every unconnected viewer dropped",
        )
        gws = gateway_status()
        assert gws["viewers"] == 1 and gws["publisher_sessions"] == 1, gws
        seen = first.frames_received
        await first.wait_frames(seen + 30, timeout=15)

        # connected viewers fill the slots; one more gets 429 (JSON), as before
        second = WhepSubscriber()
        await second.start(wurl)
        await second.wait_frames(10, timeout=15)
        await in_thread(
            wait_until, lambda: gateway_status()["viewers"] == 2, 10, 0.1, "two viewers"
        )
        with pytest.raises(WhepError) as err:
            await WhepSubscriber().start(wurl)
        assert err.value.status == 429 and err.value.retry_after, err.value
        assert json.loads(err.value.body)["success"] is False
        for peer in (second, first, pub):
            await peer.stop()

    run_peers(body(), 150)


def test_pending_viewers_are_bounded_over_the_whole_gateway(gateway_factory):
    """--max-pending-viewers-total bounds the viewers still connecting over all streams: with
    two live streams under the per-stream bound (3) the fifth fake offer in all (limit 4) gets
    503 naming the gateway-wide option, while the per-stream bound still answers first on A."""
    gw = gateway_factory(
        "--max-pending-viewers",
        "3",
        "--max-pending-viewers-total",
        "4",
        "--viewer-connect-timeout",
        "60",
    )
    a, b = create(gw), create(gw)

    def post(stream, sdp):
        return requests.post(whep_url(gw, stream), data=sdp, headers=SDP, timeout=15)

    async def body():
        pubs = [WhipPublisher(SolidColorTrack(W, H, RED)) for _ in range(2)]
        for pub, stream in zip(pubs, (a, b)):
            await pub.start(stream["whip_url"])
            await wait_online(gw, stream)
        offers = [await recvonly_offer(candidates=False) for _ in range(6)]
        for sdp in offers[:3]:
            r = await in_thread(post, a, sdp)
            assert r.status_code == 201, (r.status_code, r.text)
        r = await in_thread(post, a, offers[3])
        assert "--max-pending-viewers 3" in assert_json_refusal(r, 503)["error"]
        r = await in_thread(post, b, offers[3])
        assert r.status_code == 201, (r.status_code, r.text)
        r = await in_thread(post, b, offers[4])
        error = assert_json_refusal(r, 503)["error"]
        assert "--max-pending-viewers-total 4" in error, error
        assert r.headers.get("Retry-After"), r.headers
        assert status(gw, b)["gateway_status"]["pending_viewers"] == 1
        for pub in pubs:
            await pub.stop()

    run_peers(body(), 120)
