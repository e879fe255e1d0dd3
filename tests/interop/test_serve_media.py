"""`daydream-rtc serve` end to end: REST frames in, the local gateway's effect, WHEP frames out.

Real WebRTC (whipsink/whepsrc inside serve, the gateway) inside scripts/netns-run only.
"""

import signal
import threading
import time

import pytest
import requests

from drtc_peers import color_close, in_drtc_netns
from gateway_fixture import wait_until
from timescale import scaled

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)

RED, GREEN, CYAN = (255, 0, 0), (0, 255, 0), (0, 255, 255)
SIZE = 250  # 750-byte RGB rows: GStreamer pads them to 752, raw /whep/frame must not
TOL = 45


class Pusher(threading.Thread):
    """Posts raw RGB frames of one colour at about 30 fps until stopped."""

    def __init__(self, url, rgb):
        super().__init__(daemon=True)
        self.url, self.rgb = url, rgb
        self.running = True
        self.sent = 0

    def run(self):
        http = requests.Session()
        data = bytes(self.rgb) * (SIZE * SIZE)
        while self.running:
            r = http.post(
                f"{self.url}?width={SIZE}&height={SIZE}&format=RGB",
                data=data,
                headers={"Content-Type": "application/octet-stream"},
                timeout=10,
            )
            if r.status_code == 200:
                self.sent += 1
            time.sleep(1 / 30)


def start_body(prompt, delta):
    return {
        "stream_name": "test",
        "frame_rate": 30,
        "frame_width": SIZE,
        "frame_height": SIZE,
        "pipeline_config": {
            "pipeline": "streamdiffusion",
            "params": {"prompt": prompt, "delta": delta},
        },
    }


def whep_rgb(base):
    r = requests.get(f"{base}/whep/frame?format=raw", timeout=10)
    if r.headers.get("X-Has-Frame") != "1":
        return None
    w, h = int(r.headers["X-Frame-Width"]), int(r.headers["X-Frame-Height"])
    assert len(r.content) == w * h * 3, "raw frames are tightly packed RGB"
    y, x = h // 2, w // 2
    return tuple(r.content[(y * w + x) * 3 : (y * w + x) * 3 + 3])


def subscribe(base):
    whep_url = wait_until(
        lambda: requests.get(f"{base}/status", timeout=5).json()["whep_url"], 15, what="whep_url"
    )
    r = requests.post(f"{base}/whep/connect", json={"whep_url": whep_url}, timeout=10)
    assert r.status_code == 200 and r.json()["whep_url"] == whep_url
    return whep_url


def wait_color(base, rgb, timeout=20):
    wait_until(
        lambda: (c := whep_rgb(base)) is not None and color_close(c, rgb, TOL),
        timeout,
        0.1,
        f"colour {rgb} out of {base}/whep/frame",
    )


@pytest.fixture
def stack(gateway_factory, serve_factory):
    gw = gateway_factory()
    env = {"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": "any-key"}
    return gw, serve_factory(env=env)


def test_frames_through_the_gateway_and_back(stack):
    gw, s = stack
    r = requests.post(f"{s.url}/start", json=start_body("plain", 0.0), timeout=30)
    assert r.status_code == 200, r.text
    started = r.json()
    assert started["running"] is True and started["stream_id"].startswith("str_")
    assert started["remote_status"]["phase"] == "STREAM_CREATED"
    assert started["stream_settings"] == {
        "frame_rate": 30.0,
        "frame_width": SIZE,
        "frame_height": SIZE,
    }
    pusher = Pusher(f"{s.url}/frames", RED)
    pusher.start()
    try:
        subscribe(s.url)
        wait_color(s.url, RED)
        status = wait_until(
            lambda: (st := requests.get(f"{s.url}/status", timeout=5).json())["bitrate"] > 0 and st,
            10,
            what="a bitrate in /status",
        )
        assert status["frames_sent"] > 0 and status["state"] == "streaming"
        # a rate over the last second: a loaded machine has slow seconds, so a few tries
        wait_until(
            lambda: 10 < requests.get(f"{s.url}/status", timeout=5).json()["fps"] < 45,
            10,
            what="an fps near 30 in /status",
        )
        # serve's RTT to the gateway, from whipsink's RTCP (a report every few seconds)
        rtt = wait_until(
            lambda: requests.get(f"{s.url}/status", timeout=5).json()["rtt"],
            20,
            0.2,
            what="an RTT in /status",
        )
        assert 0 < rtt < 1.0, rtt
        metrics = requests.get(f"{s.url}/metrics", timeout=5).text
        assert 'daydream_rtc_fps{stream="default"}' in metrics
        assert 'daydream_rtc_bytes_sent_total{stream="default"} 0\n' not in metrics
        assert requests.get(f"{s.url}/healthz", timeout=5).json()["frame_loop_ready"] is True

        # a PATCH reaches the gateway: the output turns cyan
        r = requests.patch(
            f"{s.url}/pipeline",
            json={"pipeline_config": {"params": {"prompt": "invert", "delta": 1.0}}},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["updated"] is True and body["stream_id"] == started["stream_id"]
        assert body["params"]["prompt"] == "invert"
        wait_color(s.url, CYAN)
        whep = requests.get(f"{s.url}/whep/status", timeout=5).json()
        assert whep["connected"] is True and whep["frames_received"] > 0
        frame = requests.get(f"{s.url}/whep/frame", timeout=10).json()
        assert frame["has_frame"] is True and frame["metadata"]["timestamp"] > 0
        jpeg = requests.get(f"{s.url}/whep/frame?format=jpeg", timeout=10)
        assert jpeg.headers["Content-Type"] == "image/jpeg" and jpeg.content[:2] == b"\xff\xd8"
    finally:
        pusher.running = False
        pusher.join(scaled(10))
    stopped = requests.post(f"{s.url}/stop", timeout=10).json()
    assert stopped["running"] is False and stopped["remote_status"]["phase"] == "STOPPED"
    # the stream was ended at the service
    wait_until(
        lambda: requests.get(f"{gw.url}/v1/streams/{started['stream_id']}", timeout=5).status_code
        == 404,
        10,
        what="stream deleted",
    )
    r = requests.post(f"{s.url}/whep/disconnect", timeout=5).json()
    assert r["connection_state"] == "idle" and r["last_error"] == "Manual disconnect"


def test_two_streams_at_once(stack):
    gw, s = stack
    a = requests.post(f"{s.url}/streams/a/start", json=start_body("invert", 1.0), timeout=30)
    b = requests.post(f"{s.url}/streams/b/start", json=start_body("plain", 0.0), timeout=30)
    assert a.status_code == 200 and b.status_code == 200
    assert a.json()["stream_id"] != b.json()["stream_id"]
    pushers = [Pusher(f"{s.url}/streams/a/frames", RED), Pusher(f"{s.url}/streams/b/frames", GREEN)]
    for p in pushers:
        p.start()
    try:
        subscribe(f"{s.url}/streams/a")
        subscribe(f"{s.url}/streams/b")
        wait_color(f"{s.url}/streams/a", CYAN)
        wait_color(f"{s.url}/streams/b", GREEN)
        names = {st["name"] for st in requests.get(f"{s.url}/streams", timeout=5).json()["streams"]}
        assert {"a", "b", "default"} <= names
    finally:
        for p in pushers:
            p.running = False
            p.join(scaled(10))


def test_restart_replaces_the_stream(stack):
    gw, s = stack
    first = requests.post(f"{s.url}/start", json=start_body("plain", 0.0), timeout=30).json()
    second = requests.post(f"{s.url}/start", json=start_body("plain", 0.0), timeout=30).json()
    assert second["running"] is True and second["stream_id"] != first["stream_id"]
    wait_until(
        lambda: requests.get(f"{gw.url}/v1/streams/{first['stream_id']}", timeout=5).status_code
        == 404,
        10,
        what="the first stream deleted",
    )


def test_upstream_failures_are_502(gateway_factory, serve_factory):
    gw = gateway_factory("--fail-creates", "10")
    s = serve_factory(env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": "k"})
    r = requests.post(f"{s.url}/start", json={}, timeout=60)
    assert r.status_code == 502
    assert r.json()["detail"].startswith("Failed to create stream 500")
    status = requests.get(f"{s.url}/status", timeout=5).json()
    assert status["running"] is False and status["state"] == "failed"
    assert status["state_detail"].startswith("Failed to create stream 500")
    r = requests.post(
        f"{s.url}/start", json={"pipeline_config": {"params": {"width": 500}}}, timeout=10
    )
    assert r.status_code == 422 and "params.width" in r.json()["detail"]


def test_sigterm_ends_the_daydream_streams(gateway_factory, serve_factory):
    # what a ComfyUI restart does: the service must not keep billing streams nobody feeds,
    # even when it answers slowly
    gw = gateway_factory("--api-delay", "700")
    s = serve_factory(env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": "any-key"})
    ids = []
    for path in ("", "/streams/second"):
        r = requests.post(f"{s.url}{path}/start", json=start_body("plain", 0.0), timeout=30)
        assert r.status_code == 200, r.text
        ids.append(r.json()["stream_id"])
    for stream_id in ids:
        assert requests.get(f"{gw.url}/v1/streams/{stream_id}", timeout=5).status_code == 200
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(scaled(15)) == 0
    for stream_id in ids:
        assert requests.get(f"{gw.url}/v1/streams/{stream_id}", timeout=5).status_code == 404
    assert "did not answer" not in s.log_text()


def test_backpressure_mode_answers_503_when_the_queue_stays_full(gateway_factory, serve_factory):
    gw = gateway_factory()
    s = serve_factory(
        "--queue-mode",
        "backpressure",
        "--max-frames",
        "2",
        "--frames-timeout",
        "100",
        env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": "k"},
    )
    body = {**start_body("plain", 0.0), "frame_rate": 1}
    assert requests.post(f"{s.url}/start", json=body, timeout=30).status_code == 200
    data = bytes(RED) * (SIZE * SIZE)
    answers = []
    for _ in range(6):
        r = requests.post(
            f"{s.url}/frames?width={SIZE}&height={SIZE}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            timeout=10,
        )
        answers.append(r)
    codes = [r.status_code for r in answers]
    assert codes.count(200) >= 2 and 503 in codes, codes
    refused = next(r for r in answers if r.status_code == 503)
    assert refused.headers["Retry-After"] == "1" and refused.json()["detail"]
    status = requests.get(f"{s.url}/status", timeout=5).json()
    assert status["queue_stats"]["dropped"] == 0  # backpressure never drops


def test_non_loopback_bind_enforces_the_token(serve_factory, tmp_path):
    # 10.77.0.1 is scripts/netns-run's private veth address: off loopback, still on no network
    token = tmp_path / "token"
    token.write_text("t0k3n-for-lan\n")
    token.chmod(0o600)
    s = serve_factory("--host", "10.77.0.1", "--access-token-file", str(token))
    assert s.url.startswith("http://10.77.0.1:")
    assert requests.get(f"{s.url}/healthz", timeout=5).status_code == 200
    for method, path in (("get", "/status"), ("post", "/stop"), ("get", "/whep/frame")):
        r = requests.request(method, s.url + path, timeout=5)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer", path
    wrong = requests.get(f"{s.url}/status", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401
    ok = requests.get(
        f"{s.url}/status", headers={"Authorization": "Bearer t0k3n-for-lan"}, timeout=5
    )
    assert ok.status_code == 200 and ok.json()["running"] is False
    assert "t0k3n-for-lan" not in s.log_text()


def test_api_key_never_logged(gateway_factory, serve_factory):
    gw = gateway_factory()
    key = "dd-secret-key-77f1c0"
    s = serve_factory("-vvv", env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": key})
    r = requests.post(f"{s.url}/start", json=start_body("plain", 0.0), timeout=30)
    assert r.status_code == 200 and key not in r.text
    subscribe(s.url)
    for path in ("/status", "/streams", "/metrics", "/whep/status"):
        assert key not in requests.get(f"{s.url}{path}", timeout=5).text
    requests.post(f"{s.url}/stop", timeout=10)
    s.stop()
    log = s.log_text()
    assert "POST /start -> 200" in log  # -vv and above log every request, on stderr
    assert key not in log
