"""`daydream-rtc gateway`: a stream that ends while a viewer watches it ends cleanly.

Each way a stream's media can end (the stream DELETEd, the publisher's WHIP session DELETEd and
then released, a publisher gone quiet and timed out) is run with a viewer connected, under
G_DEBUG=fatal-criticals: a GStreamer-CRITICAL (an element disposed outside NULL) aborts the
gateway, and none may appear in its log. Runs inside scripts/netns-run only.
"""

import asyncio
import os
import sys

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from drtc_peers import (  # noqa: E402
    SolidColorTrack,
    WhepSubscriber,
    WhipPublisher,
    in_drtc_netns,
    run_peers,
)
from gateway_fixture import wait_until  # noqa: E402
from timescale import scaled_int  # noqa: E402

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)

W, H = 320, 240
STOPPED = "media stopped"  # logged once both pipelines of a stream's media are in NULL


def create(gw):
    r = requests.post(f"{gw.url}/v1/streams", json={"params": {"prompt": "x"}}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def state(gw, stream):
    r = requests.get(f"{gw.url}/v1/streams/{stream['id']}/status", timeout=10)
    return r.json()["data"] if r.status_code == 200 else None


async def watch(gw, stream):
    """A publisher and a viewer receiving the output; returns (track, publisher, viewer)."""
    track = SolidColorTrack(W, H, (255, 0, 0))
    pub = WhipPublisher(track)
    await pub.start(stream["whip_url"])
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(
        None, wait_until, lambda: (state(gw, stream) or {}).get("state") == "ONLINE", 15
    )
    sub = WhepSubscriber()
    await sub.start(f"{gw.url}/live/video-to-video/{stream['stream_key']}-out/whep")
    await sub.wait_frames(5, timeout=15)
    return track, pub, sub


def wait_stopped(gw, count):
    """Until the log says `count` media stopped (or shows a CRITICAL); then none may be there."""
    wait_until(
        lambda: "CRITICAL" in gw.log_text() or gw.log_text().count(STOPPED) >= count,
        20,
        0.1,
        f"{count} x '{STOPPED}' in the gateway's log",
    )
    log = gw.log_text()
    assert "CRITICAL" not in log, log
    assert gw.proc.poll() is None, log


@pytest.mark.parametrize("mode", ["daydream", "rfc"])
def test_stream_with_a_viewer_ends_without_criticals(gateway_factory, mode):
    gw = gateway_factory(
        "--mode",
        mode,
        "--publisher-timeout",
        str(scaled_int(1)),
        env={"G_DEBUG": "fatal-criticals"},
    )

    async def deleted_stream():
        stream = create(gw)
        _, pub, sub = await watch(gw, stream)
        r = requests.delete(f"{gw.url}/v1/streams/{stream['id']}", timeout=10)
        assert r.status_code == 204
        await asyncio.get_running_loop().run_in_executor(None, wait_stopped, gw, 1)
        await sub.stop()
        await pub.stop()

    async def publisher_timed_out():
        stream = create(gw)
        track, pub, sub = await watch(gw, stream)
        track.stop()  # frames stop, nobody says goodbye: the publisher times out
        await asyncio.get_running_loop().run_in_executor(None, wait_stopped, gw, 2)
        await sub.stop()
        await pub.stop()

    async def publisher_deleted():
        # what `gst-launch-1.0 -e ... ! whipsink` does on Ctrl-C in rfc mode
        stream = create(gw)
        _, pub, sub = await watch(gw, stream)
        await pub.stop()
        await asyncio.get_running_loop().run_in_executor(None, wait_stopped, gw, 3)
        await sub.stop()

    run_peers(deleted_stream(), 60)
    run_peers(publisher_timed_out(), 60)
    if mode == "rfc":
        run_peers(publisher_deleted(), 60)
    gw.stop()
    assert gw.exited_cleanly(), gw.log_text()
