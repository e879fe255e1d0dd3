"""/preview in Chromium against the real serve and gateway (WebRTC inside scripts/netns-run)."""

import socket

import pytest
import requests

from browser_fixture import ROOT, Pusher, run_node
from drtc_peers import in_drtc_netns
from gateway_fixture import BUILD_DIR
from standin_server import StandinComfy

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)

RED, CYAN = [255, 0, 0], [0, 255, 255]
SIZE = 256


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_streaming(gw, serve_factory, port=0, key="any-key"):
    s = serve_factory(
        "--port", str(port), env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": key}
    )
    body = {
        "frame_rate": 15,
        "frame_width": SIZE,
        "frame_height": SIZE,
        "pipeline_config": {
            "pipeline": "streamdiffusion",
            "params": {"prompt": "plain", "delta": 0},
        },
    }
    r = requests.post(f"{s.url}/start", json=body, timeout=30)
    assert r.status_code == 200, r.text
    pusher = Pusher(s.url, RED, SIZE)
    pusher.start()
    return s, pusher


@pytest.fixture
def ports():
    """serve's port and the stand-in ComfyUI's, known before the gateway starts: the pages
    served there play the gateway's WHEP output, and the gateway lets only the origins it
    is told (besides its own and ComfyUI's default ones) do that."""
    return free_port(), free_port()


@pytest.fixture
def streaming(gateway_factory, serve_factory, ports):
    """serve streaming red frames through the gateway (prompt 'plain', delta 0: still red)."""
    origins = [a for p in ports for a in ("--allowed-origin", f"http://127.0.0.1:{p}")]
    gw = gateway_factory(*origins)
    s, pusher = start_streaming(gw, serve_factory, ports[0])
    yield gw, s
    pusher.stop()


def plays(url, **args):
    """preview.mjs on url: the output red, then cyan after 'invert'; the overlay counting."""
    out = run_node("preview.mjs", {"url": url, "red": RED, "cyan": CYAN, **args})
    assert out["second"]["frames"] > out["first"]["frames"] > 0
    return out


def test_serve_preview_plays_both_and_the_prompt_changes_the_effect(streaming):
    gw, s = streaming
    out = plays(f"{s.url}/preview", screenshot=str(BUILD_DIR / "preview.png"))
    assert out["first"]["mode"] == "webrtc" and out["first"]["state"] == "playing"
    last = requests.get(f"{s.url}/status", timeout=5).json()
    assert last["state"] == "streaming"


def test_serve_preview_falls_back_to_jpeg_when_webrtc_is_blocked(streaming):
    gw, s = streaming
    out = plays(f"{s.url}/preview", fallback="blocked")
    assert out["first"]["mode"] == "jpeg" and out["first"]["state"] == "fallback"
    assert "JPEG" in out["first"]["text"]


def test_gateway_preview_plays_its_output_and_the_prompt_changes_it(streaming):
    gw, s = streaming
    stream_id = requests.get(f"{s.url}/status", timeout=5).json()["stream_id"]
    shot = str(BUILD_DIR / "preview-gateway.png")
    out = plays(f"{gw.url}/preview?stream={stream_id}", input=False, screenshot=shot)
    assert out["first"]["mode"] == "webrtc" and out["first"]["state"] == "playing"
    r = requests.get(f"{gw.url}/v1/streams/{stream_id}/status", timeout=5).json()
    assert r["data"]["inference_status"]["last_params"]["prompt"] == "invert"


GATEWAY_KEY = "preview-gateway-key-31c9"


@pytest.fixture
def keyed_streaming(gateway_factory, serve_factory, ports, tmp_path):
    """As `streaming`, with a gateway that requires GATEWAY_KEY (serve's API key)."""
    key_file = tmp_path / "gateway.key"
    key_file.write_text(GATEWAY_KEY)
    key_file.chmod(0o600)
    origins = [a for p in ports for a in ("--allowed-origin", f"http://127.0.0.1:{p}")]
    gw = gateway_factory("--api-key-file", str(key_file), *origins)
    s, pusher = start_streaming(gw, serve_factory, ports[0], key=GATEWAY_KEY)
    yield gw, s
    pusher.stop()


def test_keyed_gateway_preview_plays_with_the_key_in_the_fragment(keyed_streaming):
    """The page is public; the key comes in the fragment (never sent to a server) and goes
    with its API calls and WHEP requests."""
    gw, s = keyed_streaming
    stream_id = requests.get(f"{s.url}/status", timeout=5).json()["stream_id"]
    page = requests.get(f"{gw.url}/preview?stream={stream_id}", timeout=5)
    assert page.status_code == 200 and GATEWAY_KEY not in page.text
    status = f"{gw.url}/v1/streams/{stream_id}/status"
    assert requests.get(status, timeout=5).status_code == 401
    out = plays(f"{gw.url}/preview?stream={stream_id}#token={GATEWAY_KEY}", input=False)
    assert out["first"]["mode"] == "webrtc" and out["first"]["state"] == "playing"
    assert GATEWAY_KEY not in gw.log_text()


def test_serve_preview_against_a_keyed_gateway_falls_back_to_jpeg(keyed_streaming):
    """serve's page has no gateway key: its direct WHEP POST gets 401, and the output comes
    as JPEG stills through serve, whose own subscription carries the key."""
    gw, s = keyed_streaming
    out = plays(f"{s.url}/preview", fallback="keyed")
    assert out["first"]["mode"] == "jpeg" and out["first"]["state"] == "fallback"
    assert "401" in out["first"]["text"], out["first"]
    assert GATEWAY_KEY not in s.log_text() and GATEWAY_KEY not in gw.log_text()


def test_gateway_preview_answers_the_counter_offer(gateway_factory, serve_factory):
    """--whep-counter-offer: the player POSTs, gets the gateway's offer (406), PATCHes its
    answer; before that the output is not ready for 3 s: 404s, retried after Retry-After."""
    gw = gateway_factory("--whep-counter-offer", "--whep-404-seconds", "3")
    s, pusher = start_streaming(gw, serve_factory)
    try:
        stream_id = requests.get(f"{s.url}/status", timeout=5).json()["stream_id"]
        out = run_node(
            "preview.mjs",
            {
                "url": f"{gw.url}/preview?stream={stream_id}",
                "red": RED,
                "cyan": CYAN,
                "input": False,
            },
        )
    finally:
        pusher.stop()
    assert out["first"]["mode"] == "webrtc" and out["first"]["state"] == "playing"
    assert "counter-offer to viewer" in gw.log_text()
    waits = [h for h in out["history"] if h.startswith("waiting: 404")]
    assert waits and "retrying in 1.0 s" in waits[0], out["history"]


def test_preview_assets_are_built_in(serve_factory, gateway_factory):
    """The page, its style and both scripts come out of the binary; the player is the pack's."""
    player = (ROOT / "python-nodes" / "web" / "whep-player.js").read_bytes()
    for base, host in ((serve_factory().url, "serve"), (gateway_factory().url, "gateway")):
        page = requests.get(f"{base}/preview", timeout=5)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        assert requests.get(f"{base}/preview/host.json", timeout=5).json() == {"host": host}
        js = requests.get(f"{base}/preview/whep-player.js", timeout=5)
        assert js.headers["Content-Type"].startswith("text/javascript") and js.content == player
        assert requests.get(f"{base}/preview/preview.css", timeout=5).status_code == 200
        assert requests.get(f"{base}/preview/nope.js", timeout=5).status_code == 404
        assert requests.get(f"{base}/preview/a/b.js", timeout=5).status_code == 404
        assert requests.post(f"{base}/preview", timeout=5).status_code == 405
    assert requests.get(f"{base}/preview/input.jpg", timeout=5).status_code == 404  # gateway
    s = serve_factory()
    still = requests.get(f"{s.url}/preview/input.jpg", timeout=10)
    assert still.headers["Content-Type"] == "image/jpeg" and still.content[:2] == b"\xff\xd8"
    assert still.headers["X-Has-Frame"] == "0", "black before the first frame"
    assert requests.get(f"{s.url}/preview/input.jpg?stream=nope", timeout=5).status_code == 404


def test_preview_errors_come_in_the_hosts_shape(serve_factory, gateway_factory):
    """serve's errors are {"detail"}; the gateway's, /preview's included, Daydream's
    {"success": false, "error"} (docs/gateway.md), as a client of either expects."""
    s, gw = serve_factory().url, gateway_factory().url
    for path in ("/preview/nope.js", "/preview/a/b.js", "/preview/input.jpg"):
        r = requests.get(gw + path, timeout=5)
        assert r.status_code == 404 and r.json() == {"success": False, "error": "Not Found"}, path
        assert requests.get(gw + "/nope", timeout=5).json().keys() == r.json().keys()
    r = requests.post(f"{gw}/preview", timeout=5)
    assert r.status_code == 405 and r.json() == {"success": False, "error": "Method Not Allowed"}
    assert r.headers["Allow"] == "GET, HEAD"
    for path in ("/preview/nope.js", "/preview/a/b.js"):
        r = requests.get(s + path, timeout=5)
        assert r.status_code == 404 and r.json() == {"detail": "Not Found"}, path
    assert requests.post(f"{s}/preview", timeout=5).json() == {"detail": "Method Not Allowed"}


def test_openapi_lists_the_preview_routes(serve_factory):
    """serve's /openapi.json documents /preview and /preview/input.jpg as it serves them."""
    s = serve_factory().url
    doc = requests.get(f"{s}/openapi.json", timeout=5).json()
    page = doc["paths"]["/preview"]["get"]["responses"]["200"]["content"]
    assert "text/html" in page
    still = doc["paths"]["/preview/input.jpg"]["get"]
    assert "image/jpeg" in still["responses"]["200"]["content"]
    assert [p["name"] for p in still["parameters"]] == ["stream"]
    assert requests.get(f"{s}/preview", timeout=5).headers["Content-Type"].startswith("text/html")
    r = requests.get(f"{s}/preview/input.jpg?stream=default", timeout=10)
    assert r.headers["Content-Type"] == "image/jpeg"


def test_serve_input_still_takes_the_access_token(serve_factory, tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    token.chmod(0o600)
    s = serve_factory("--access-token-file", str(token))
    assert requests.get(f"{s.url}/preview", timeout=5).status_code == 200, "the page is public"
    assert requests.get(f"{s.url}/preview/input.jpg", timeout=5).status_code == 401
    r = requests.get(
        f"{s.url}/preview/input.jpg", headers={"Authorization": "Bearer s3cret-token"}, timeout=10
    )
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"


@pytest.fixture
def comfy_on_serve(streaming, tmp_path, ports):
    """The stand-in ComfyUI, its /rtc/control saying the real serve runs."""
    gw, s = streaming
    comfy = StandinComfy(s.url, credentials_dir=str(tmp_path), port=ports[1]).start()
    comfy.running = True
    yield comfy
    comfy.stop()


def test_preview_node_plays_the_output_and_follows_the_prompt(comfy_on_serve):
    out = run_node(
        "preview-node.mjs",
        {
            "url": comfy_on_serve.url,
            "red": RED,
            "cyan": CYAN,
            "screenshot": str(BUILD_DIR / "comfyui-preview-node.png"),
        },
    )
    assert out["size"] == [560, 560] and out["widgets"] == ["rtc_preview"]
    assert out["patch"] == 200
    assert out["first"]["mode"] == "webrtc" and out["first"]["state"] == "playing"
    assert out["second"]["frames"] > out["first"]["frames"] > 0


def test_preview_node_falls_back_to_jpeg_through_the_relay(comfy_on_serve):
    out = run_node(
        "preview-node.mjs", {"url": comfy_on_serve.url, "red": RED, "cyan": CYAN, "blocked": True}
    )
    assert out["first"]["mode"] == "jpeg" and "JPEG fallback" in out["first"]["text"]
    assert out["second"]["frames"] > out["first"]["frames"] > 0


def test_player_waits_on_429_and_deletes_its_session_on_stop(gateway_factory, serve_factory):
    gw = gateway_factory("--mode", "rfc", "--max-viewers", "1")
    s, pusher = start_streaming(gw, serve_factory)
    try:
        stream_id = requests.get(f"{s.url}/status", timeout=5).json()["stream_id"]
        out = run_node("whep-busy.mjs", {"url": f"{gw.url}/preview?stream={stream_id}"})
        status = requests.get(f"{gw.url}/v1/streams/{stream_id}/status", timeout=5).json()
    finally:
        pusher.stop()
    assert out["location"].startswith(f"{gw.url}/live/video-to-video/"), out
    waits = [h for h in out["history"] if h.startswith("waiting: 429")]
    assert "too many viewers, retrying in 5.0 s" in waits[0], out["history"]
    assert status["data"]["gateway_status"]["viewers"] == 1
    assert "DELETE 200" in out["firstHistory"], out["firstHistory"]
