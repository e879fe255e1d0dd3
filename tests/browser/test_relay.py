"""python-nodes/relay.py on a real aiohttp server, relaying to a real one (no browser)."""

import socket

import pytest
import requests

from standin_server import ScriptedServe, StandinComfy


@pytest.fixture
def relay(tmp_path):
    serve = ScriptedServe().start()
    comfy = StandinComfy(serve.url, credentials_dir=str(tmp_path)).start()
    yield comfy, serve
    comfy.stop()
    serve.stop()


def test_relay_passes_serve_routes_both_ways(relay):
    comfy, serve = relay
    base = f"{comfy.url}/api/rtc/api"
    r = requests.get(f"{base}/status", timeout=5)
    assert r.status_code == 503 and r.json() == {"detail": "the RTC server is not running"}
    comfy.running = True
    r = requests.get(f"{base}/status", timeout=5)
    assert r.status_code == 200 and r.json()["running"] is False
    assert r.headers["Cache-Control"] == "no-store"
    r = requests.post(f"{base}/start", json={}, timeout=5)
    assert r.json()["remote_status"]["phase"] == "STREAM_CREATED"
    serve.config_status = 409
    r = requests.post(f"{base}/config", json={"frame_rate": 5}, timeout=5)
    assert r.status_code == 409 and "locked" in r.json()["detail"], "serve's answer, as it came"
    # the same without ComfyUI's /api prefix
    assert requests.get(f"{comfy.url}/rtc/api/whep/status", timeout=5).status_code == 200


def test_relay_refuses_what_is_not_serve_s_browser_api(relay):
    comfy, serve = relay
    comfy.running = True
    base = f"{comfy.url}/api/rtc/api"
    for path in ("frames", "metrics", "http://evil.example/x", "../status", "streams/a b/status"):
        r = requests.post(f"{base}/{path}", data=b"x", timeout=5)
        assert r.status_code == 404, path
    assert requests.get(f"{base}/streams/cam_2/status", timeout=5).status_code == 404, "serve's 404"
    big = b"x" * (1024 * 1024 + 1)
    assert requests.post(f"{base}/pipeline", data=big, timeout=10).status_code == 413


def test_relay_says_when_serve_does_not_answer(relay, tmp_path):
    comfy, serve = relay
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    comfy.serve_url = f"http://127.0.0.1:{port}"
    comfy.running = True
    r = requests.get(f"{comfy.url}/api/rtc/api/status?token=secret", timeout=15)
    assert r.status_code == 502
    assert r.json()["detail"].startswith(
        f"the RTC server at http://127.0.0.1:{port} did not answer"
    )
    assert "secret" not in r.text
