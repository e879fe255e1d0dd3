"""The gateway's WHEP counter-offer (--whep-counter-offer), answered by aiortc.

A viewer that lets the server offer must find in the offer what RFC 6184 makes the H.264
payload's identity: packetization-mode and profile-level-id. aiortc matches on both and
refuses an offer without them. Runs inside scripts/netns-run only.
"""

import asyncio
import os
import re
import sys
from urllib.parse import urljoin

import aiohttp
import pytest
import requests
from aiortc import RTCSessionDescription

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from drtc_peers import (  # noqa: E402
    SolidColorTrack,
    WhepSubscriber,
    WhipPublisher,
    in_drtc_netns,
    new_peer_connection,
    run_peers,
)

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)

RED = (255, 0, 0)
CYAN = (0, 255, 255)
W, H = 320, 240
CENTRE = (W // 4, H // 4, W // 2, H // 2)


class CounterOfferViewer(WhepSubscriber):
    """POSTs an offer, takes the server's 406 counter-offer, PATCHes its answer."""

    async def start(self, url, token=None):
        self._event = asyncio.Event()
        self._t_start = asyncio.get_running_loop().time()
        probe = new_peer_connection()
        probe.addTransceiver("video", direction="recvonly")
        await probe.setLocalDescription(await probe.createOffer())
        first_offer = probe.localDescription.sdp
        await probe.close()
        self.pc = new_peer_connection()

        @self.pc.on("track")
        def _on_track(track):
            if track.kind == "video" and self._task is None:
                self._task = asyncio.ensure_future(self._consume(track))

        headers = {"Content-Type": "application/sdp"}
        async with self._http().post(url, data=first_offer, headers=headers) as resp:
            self.status = resp.status
            self.offer_sdp = await resp.text()
            assert resp.status == 406, self.offer_sdp
            assert resp.headers["Content-Type"].startswith("application/sdp")
            self.location = urljoin(url, resp.headers["Location"])
        await self.pc.setRemoteDescription(RTCSessionDescription(self.offer_sdp, "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self.answer_sdp = self.pc.localDescription.sdp
        async with self._http().patch(self.location, data=self.answer_sdp, headers=headers) as resp:
            assert resp.status == 204, await resp.text()


def h264_fmtp(sdp):
    """{payload: fmtp parameters} of the H.264 payloads in sdp."""
    pts = re.findall(r"a=rtpmap:(\d+) H264/90000", sdp)
    out = {}
    for pt in pts:
        m = re.search(rf"a=fmtp:{pt} (.*)", sdp)
        out[pt] = dict(p.split("=", 1) for p in m.group(1).strip().split(";")) if m else {}
    return out


def test_aiortc_answers_the_counter_offer_and_plays(gateway_factory):
    gw = gateway_factory("--whep-counter-offer")
    r = requests.post(
        f"{gw.url}/v1/streams", json={"params": {"prompt": "invert", "delta": 1.0}}, timeout=10
    )
    stream = r.json()
    whep = f"{gw.url}/live/video-to-video/{stream['stream_key']}-out/whep"

    async def body():
        pub = WhipPublisher(SolidColorTrack(W, H, RED))
        await pub.start(stream["whip_url"])
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                async with http.post(
                    whep, data="", headers={"Content-Type": "application/sdp"}
                ) as resp:
                    if resp.status != 404:
                        break
                await asyncio.sleep(0.1)
        viewer = CounterOfferViewer()
        await viewer.start(whep)
        fmtp = h264_fmtp(viewer.offer_sdp)
        assert fmtp, viewer.offer_sdp
        for params in fmtp.values():
            assert params.get("packetization-mode") == "1", viewer.offer_sdp
            assert re.fullmatch(r"42[0-9a-f]{2}[0-9a-f]{2}", params.get("profile-level-id", ""))
        await viewer.wait_for_color(CYAN, tolerance=45, timeout=20, region=CENTRE)
        await viewer.stop()
        await pub.stop()

    run_peers(body(), 60)
