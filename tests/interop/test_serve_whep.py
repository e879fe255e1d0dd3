"""`daydream-rtc serve`'s WHEP subscription as the original node pack drives it.

The original pack's graph runs FrameOutput before the output is ready: its status node hands over
the WHIP URL (the legacy fallback) and FrameOutput posts it to /whep/connect. serve must subscribe
to that stream's WHEP URL instead, and the gateway must never take the subscriber for a publisher.
A subscription that cannot connect must fail visibly and retry. Real WebRTC: netns-run only.
"""

import asyncio
import http.server
import threading

import pytest
import requests
from aiortc import RTCSessionDescription

from drtc_peers import color_close, in_drtc_netns, new_peer_connection
from gateway_fixture import wait_until
from test_serve_media import RED, TOL, Pusher, start_body, whep_rgb
from timescale import scaled

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)


def status_whep_url(status):
    """RTCStreamStatus's whep_url extraction (spec 9.6), legacy fallback included."""
    if status.get("whep_url"):
        return status["whep_url"]
    body = (status.get("remote_status") or {}).get("body") or status
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict):
        if body.get("success") is True and body.get("error") is None:
            url = (data.get("gateway_status") or {}).get("whep_url")
        else:
            url = data.get("whep_url")
        if url:
            return url
    return status.get("whip_url") or ""


def frame_output(base, whep_url):
    """One run of the original RTCStreamFrameOutput (spec 9.3): the frame's RGB or None."""
    st = requests.get(f"{base}/whep/status", timeout=5).json()
    if not st["connected"] and not st["connecting"] and whep_url:
        requests.post(f"{base}/whep/connect", json={"whep_url": whep_url}, timeout=5)
    return whep_rgb(base)


def test_original_node_order_with_the_whip_url(gateway_factory, serve_factory):
    gw = gateway_factory()
    s = serve_factory(env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": "any-key"})
    r = requests.post(f"{s.url}/start", json=start_body("plain", 0.0), timeout=30)
    assert r.status_code == 200, r.text
    status = requests.get(f"{s.url}/status", timeout=5).json()
    whip_url = status["whip_url"]
    # FrameOutput runs at once, before any WHEP URL: it gets the WHIP URL
    r = requests.post(f"{s.url}/whep/connect", json={"whep_url": whip_url}, timeout=5)
    assert r.status_code == 200
    pusher = Pusher(f"{s.url}/frames", RED)
    pusher.start()
    try:
        wait_until(
            lambda: (c := frame_output(s.url, whip_url)) is not None and color_close(c, RED, TOL),
            30,
            0.2,
            "the processed output through /whep/frame",
        )
        whep = requests.get(f"{s.url}/whep/status", timeout=5).json()
        real = requests.get(f"{s.url}/status", timeout=5).json()["whep_url"]
        assert real and real != whip_url
        assert whep["whep_url"] == real and whep["requested_url"] == whip_url
        assert whep["connected"] is True and whep["frames_received"] > 0
        assert "WHIP URL of stream 'default'" in whep["note"], whep
        # the original reposts its URL whenever it sees neither flag: a no-op while connected
        for _ in range(3):
            assert frame_output(s.url, whip_url) is not None
        gw_status = requests.get(
            f"{gw.url}/v1/streams/{status['stream_id']}/status", timeout=5
        ).json()["data"]
        assert gw_status["gateway_status"]["publisher_sessions"] == 1, gw_status
        assert gw_status["gateway_status"]["viewers"] == 1
        assert requests.get(f"{s.url}/status", timeout=5).json()["reconnects"] == 0
        assert "publisher gone" not in gw.log_text()
    finally:
        pusher.running = False
        pusher.join(scaled(10))


class SilentPeerEndpoint(threading.Thread):
    """A WHEP endpoint that answers every offer (201, a real SDP answer) and then never answers
    ICE: the answering peer is closed before the answer leaves. Counts the POSTs."""

    def __init__(self):
        super().__init__(daemon=True)
        endpoint = self
        self.posts = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                offer = self.rfile.read(int(self.headers["Content-Length"])).decode()
                endpoint.posts += 1
                answer = asyncio.run(endpoint.answer(offer)).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/sdp")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/whep"

    @staticmethod
    async def answer(offer):
        pc = new_peer_connection()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp

    def run(self):
        self.server.serve_forever()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_subscription_that_never_connects_fails_and_retries(serve_factory):
    endpoint = SilentPeerEndpoint()
    endpoint.start()
    try:
        s = serve_factory("--whep-timeout", "2")
        r = requests.post(f"{s.url}/whep/connect", json={"whep_url": endpoint.url}, timeout=5)
        assert r.status_code == 200 and r.json()["connecting"] is True
        failed = wait_until(
            lambda: (st := requests.get(f"{s.url}/whep/status", timeout=5).json())["last_error"]
            and st["connection_state"] == "error"
            and st,
            30,
            0.1,
            "the subscription failing visibly",
        )
        assert "not connected within 2 s" in failed["last_error"], failed
        assert failed["connecting"] is False and failed["connected"] is False
        assert failed["retry_in_s"] > 0 and failed["attempts"] == 1
        # the original node reposts the same URL: the retry stays scheduled, nothing restarts
        requests.post(f"{s.url}/whep/connect", json={"whep_url": endpoint.url}, timeout=5)
        retried = wait_until(
            lambda: (st := requests.get(f"{s.url}/whep/status", timeout=5).json())["attempts"] >= 2
            and st,
            30,
            0.1,
            "a second attempt",
        )
        assert retried["whep_url"] == endpoint.url
        wait_until(lambda: endpoint.posts >= 2, 10, 0.1, "a second offer at the endpoint")
        r = requests.post(f"{s.url}/whep/disconnect", timeout=5).json()
        assert r["connection_state"] == "idle" and r["retry_in_s"] == 0
        assert r["last_error"] == "Manual disconnect"
    finally:
        endpoint.stop()
