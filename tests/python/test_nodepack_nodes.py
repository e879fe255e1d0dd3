"""Node behaviour the original got wrong (spec §11), against a stand-in for a foreign
rtc-node-compatible server (no raw routes): PNG feature fallback, backpressure resends (503 +
Retry-After, nothing dropped), a changed whep_url reconnects (19), a WHIP URL is never used as
WHEP URL (§9.6), 405/409 from status codes (20), one toast per outage and no exception (25)."""

import base64
import io
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

import comfyui_loader as loader

WHIP = "http://127.0.0.1:1/live/video-to-video/stk_1/whip"
WHEP = "http://127.0.0.1:1/live/video-to-video/stk_1-out/whep"


class Foreign(BaseHTTPRequestHandler):
    """The original tool's routes, as far as the nodes use them."""

    protocol_version = "HTTP/1.1"

    def reply(self, code, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")

    def do_GET(self):
        s = self.server
        if self.path == "/healthz":
            return self.reply(200, {"ok": True, "frame_loop_ready": True, "queue_depth": 0})
        if self.path == "/status":
            return self.reply(200, s.status)
        if self.path == "/whep/status":
            return self.reply(200, s.whep)
        if self.path == "/whep/frame":
            png = io.BytesIO()
            Image.new("RGB", (8, 6), (10, 200, 30)).save(png, "PNG")
            frame = {"frame_b64": base64.b64encode(png.getvalue()).decode(), "has_frame": True}
            return self.reply(200, {**frame, "metadata": {"timestamp": 1.0}, "status": s.whep})
        self.reply(404, {"detail": "Not Found"})

    def do_POST(self):
        s = self.server
        if self.path == "/frames":
            body = self.body()
            if s.refuse:
                s.refuse -= 1
                return self.reply(503, {"detail": "queue full"}, [("Retry-After", "0")])
            img = Image.open(io.BytesIO(base64.b64decode(body["frame_b64"])))
            s.frames.append(np.asarray(img.convert("RGB")))
            return self.reply(200, {"accepted": True, "queue_depth": 0})
        if self.path == "/whep/connect":
            s.connects.append(self.body()["whep_url"])
            s.whep.update(whep_url=s.connects[-1], connecting=True, connection_state="connecting")
            return self.reply(200, s.whep)
        self.reply(404, {"detail": "Not Found"})

    def do_PATCH(self):
        self.body()
        self.reply(*self.server.patch_answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def foreign(monkeypatch, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Foreign)
    server.daemon_threads = True
    server.frames, server.connects, server.refuse = [], [], 0
    server.patch_answer = (409, {"detail": "No active stream to update"})
    server.status = {
        "running": True,
        "stream_id": "str_1",
        "playback_id": "pb_1",
        "whip_url": WHIP,
        "frames_sent": 5,
        "queue_depth": 0,
        "remote_status": {
            "phase": "REMOTE_STATUS",
            "http_status": 200,
            "body": {
                "success": True,
                "error": None,
                "data": {"gateway_status": {"whep_url": WHEP}},
            },
        },
        "stream_settings": {"frame_rate": 30.0, "frame_width": 8, "frame_height": 6},
    }
    server.whep = {"whep_url": "", "connected": False, "connection_state": "idle"}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DAYDREAM_RTC_SERVER_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("DAYDREAM_RTC_SETTINGS_DIR", str(tmp_path / "settings"))
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def nodes(tmp_path):
    prompt_server = loader.use_standins(fresh=True)
    folder = loader.install_as(tmp_path / "custom_nodes", f"pack-{uuid.uuid4().hex[:8]}")
    module = loader.load_custom_node(folder)
    module.sent = prompt_server.sent
    return module


def toasts(nodes):
    return [d["summary"] for e, d in nodes.sent if e == "rtc-stream-notification"]


def test_png_form_for_a_foreign_server_and_503_resends(foreign, nodes):
    foreign.refuse = 2
    batch = np.stack([np.full((6, 8, 3), i / 4, np.float32) for i in range(4)])
    nodes.NODE_CLASS_MAPPINGS["RTCStreamFrameInput"]().run(batch)
    assert [int(f[0, 0, 0]) for f in foreign.frames] == [0, 64, 128, 191]  # all, in order
    assert toasts(nodes) == []


def test_frame_output_reads_png_and_never_uses_the_whip_url(foreign, nodes):
    node = nodes.NODE_CLASS_MAPPINGS["RTCStreamFrameOutput"]()
    image, url = node.run(WHIP)
    assert url == WHEP and foreign.connects == [WHEP]  # the stream's output, not its input
    image = np.asarray(image)
    assert image.shape == (1, 6, 8, 3) and np.allclose(image[0, 0, 0] * 255, (10, 200, 30))
    foreign.whep.update(connected=True, connection_state="connected")
    node.run(WHEP)
    assert foreign.connects == [WHEP]  # same URL, connected: no new subscription
    other = "http://127.0.0.1:1/live/video-to-video/stk_2-out/whep"
    node.run(other)
    assert foreign.connects == [WHEP, other]  # a changed URL reconnects (weakness 19)


def test_a_whip_url_is_logged_once_not_at_every_run(foreign, nodes, caplog):
    """Found in a real ComfyUI 0.8.0: the warning filled the console, one line per queued run."""
    node = nodes.NODE_CLASS_MAPPINGS["RTCStreamFrameOutput"]()
    for _ in range(3):
        assert node.run(WHIP)[1] == WHEP
    assert sum("WHIP (input) URL" in r.getMessage() for r in caplog.records) == 1


def test_status_gives_the_whep_url_never_the_whip_url(foreign, nodes):
    status = nodes.NODE_CLASS_MAPPINGS["RTCStreamStatus"]()
    assert status.run()[:5] == (True, "str_1", "pb_1", WHEP, 5)
    foreign.status["remote_status"] = {"phase": "WHIP_OFFER"}
    assert status.run()[3] == ""  # the original returned the WHIP URL here


@pytest.mark.parametrize(
    "answer, toast",
    [
        ((409, {"detail": "No active stream to update"}), "No Active Stream"),
        (
            (502, {"detail": "Failed to update stream 405: method not allowed"}),
            "Update Not Supported",
        ),
        ((405, {"detail": "Method Not Allowed"}), "Update Not Supported"),
        ((502, {"detail": "Failed to update stream 500: boom"}), "Update Failed"),
    ],
)
def test_update_errors_by_status_code(foreign, nodes, answer, toast):
    foreign.patch_answer = answer
    nodes.NODE_CLASS_MAPPINGS["UpdateRTCStream"]().run({"params": {"prompt": "x"}})
    assert toasts(nodes) == [toast]


def test_one_toast_per_outage_and_the_loop_keeps_running(nodes, monkeypatch, tmp_path):
    monkeypatch.setenv("DAYDREAM_RTC_SERVER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DAYDREAM_RTC_SETTINGS_DIR", str(tmp_path / "settings"))
    frame_input = nodes.NODE_CLASS_MAPPINGS["RTCStreamFrameInput"]()
    image = np.zeros((1, 4, 4, 3), np.float32)
    for _ in range(3):
        assert frame_input.run(image) == ()
    assert toasts(nodes) == ["RTC Server Unavailable"]
    out, _ = nodes.NODE_CLASS_MAPPINGS["RTCStreamFrameOutput"]().run("")
    assert np.asarray(out).shape == (1, 720, 1280, 3) and toasts(nodes) == [
        "RTC Server Unavailable"
    ]
