"""`daydream-rtc gateway`: the Daydream stream API over real HTTP on 127.0.0.1.

No peer connections here, so these run anywhere (inside or outside scripts/netns-run).
"""

import json
import os
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gateway_fixture import BINARY, ROOT  # noqa: E402
from timescale import scaled  # noqa: E402

DEFAULT_CONFIG = json.loads((ROOT / "data" / "pipeline-config.json").read_text())


def create(gw, body=None, token=None, expect=201):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is None:
        body = {"pipeline": "streamdiffusion", "params": DEFAULT_CONFIG["params"], "name": "t"}
    r = requests.post(f"{gw.url}/v1/streams", json=body, headers=headers, timeout=10)
    assert r.status_code == expect, r.text
    return r.json()


def test_create_get_status_delete(gateway_factory):
    gw = gateway_factory()
    stream = create(gw)
    assert stream["id"].startswith("str_")
    assert stream["stream_key"].startswith("stk_")
    assert stream["output_playback_id"]
    assert stream["whip_url"] == f"{gw.url}/live/video-to-video/{stream['stream_key']}/whip"
    assert stream["name"] == "t"
    assert stream["pipeline"] == "streamdiffusion"
    assert stream["params"] == DEFAULT_CONFIG["params"]
    # key order of the params is kept as sent
    assert list(stream["params"]) == list(DEFAULT_CONFIG["params"])

    got = requests.get(f"{gw.url}/v1/streams/{stream['id']}", timeout=10)
    assert got.status_code == 200 and got.json() == stream

    status = requests.get(f"{gw.url}/v1/streams/{stream['id']}/status", timeout=10).json()
    assert status["success"] is True and status["error"] is None
    data = status["data"]
    assert data["stream_id"] == stream["id"]
    assert data["state"] == "OFFLINE"
    assert "whep_url" not in data["gateway_status"]  # nothing published yet
    assert data["inference_status"]["last_params"] == DEFAULT_CONFIG["params"]

    r = requests.delete(f"{gw.url}/v1/streams/{stream['id']}", timeout=10)
    assert r.status_code == 204
    r = requests.get(f"{gw.url}/v1/streams/{stream['id']}", timeout=10)
    assert r.status_code == 404 and r.json()["success"] is False


def test_patch_merges_params_and_validates(gateway_factory):
    gw = gateway_factory()
    stream = create(gw)
    url = f"{gw.url}/v1/streams/{stream['id']}"
    r = requests.patch(url, json={"params": {"prompt": "invert", "delta": 1.0}}, timeout=10)
    assert r.status_code == 200, r.text
    params = r.json()["params"]
    assert params["prompt"] == "invert" and params["delta"] == 1.0
    assert params["seed"] == DEFAULT_CONFIG["params"]["seed"]  # untouched members stay

    r = requests.patch(url, json={"params": {"width": 500}}, timeout=10)
    assert r.status_code == 422
    assert "params.width" in r.json()["error"]
    # a rejected update changes nothing
    after = requests.get(f"{url}/status", timeout=10).json()["data"]["inference_status"]
    assert after["last_params"]["width"] == 512 and after["last_params"]["prompt"] == "invert"


def test_bad_requests_get_json_errors(gateway_factory):
    gw = gateway_factory()
    base = f"{gw.url}/v1/streams"
    cases = [
        ("post", base, b"{bad", 400, "not valid JSON"),
        ("post", base, b"[1, 2]", 400, "JSON object"),
        ("post", base, b'{"params": "x"}', 422, "params must be an object"),
        ("post", base, b'{"pipeline": 3, "params": {}}', 422, "pipeline"),
        ("post", base, b'{"pipeline": "other", "params": {}}', 422, "pipeline"),
        ("post", base, b'{"name": 5, "params": {}}', 422, "name"),
        ("post", base, b'{"params": {"t_index_list": [20, 10]}}', 422, "params.t_index_list"),
        ("post", base, b'{"params": {"delta": "high"}}', 422, "params.delta"),
        ("get", base + "/str_nope", None, 404, "not found"),
        ("get", base + "/str_nope/status", None, 404, "not found"),
        ("put", base, b"{}", 405, "Method Not Allowed"),
    ]
    for method, url, data, status, text in cases:
        headers = {"Content-Type": "application/json"}
        r = requests.request(method, url, data=data, headers=headers, timeout=10)
        assert r.status_code == status, (method, url, data, r.status_code, r.text)
        body = r.json()
        assert body["success"] is False and text.lower() in body["error"].lower(), body
    r = requests.post(base, data=b"{" + b" " * 300_000 + b"}", headers=headers, timeout=10)
    assert r.status_code == 413


def test_api_key_required_when_configured(gateway_factory, tmp_path):
    key = "test-key-" + os.urandom(8).hex()
    key_file = tmp_path / "key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    gw = gateway_factory("--api-key-file", str(key_file))
    for token in (None, "wrong"):
        r = requests.post(
            f"{gw.url}/v1/streams",
            json={"params": {}},
            headers={"Authorization": f"Bearer {token}"} if token else {},
            timeout=10,
        )
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
        assert key not in r.text
    stream = create(gw, {"params": {}}, token=key)
    r = requests.get(f"{gw.url}/v1/streams/{stream['id']}/status", timeout=10)
    assert r.status_code == 401
    assert key not in gw.log_text()


def test_api_key_file_must_be_private(gateway_factory, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("k")
    key_file.chmod(0o644)
    proc = subprocess.run(
        [str(BINARY), "gateway", "--port", "0", "--api-key-file", str(key_file)],
        capture_output=True,
        text=True,
        timeout=scaled(10),
    )
    assert proc.returncode == 2 and "0600" in proc.stderr


def test_stream_count_is_bounded(gateway_factory):
    """--max-streams: one create more answers 429 with a JSON error naming the option, and a
    DELETE frees the slot again (issue 15: bound everything before it is stored)."""
    gw = gateway_factory("--max-streams", "3")
    streams = [create(gw, {"params": {}}) for _ in range(3)]
    refused = create(gw, {"params": {}}, expect=429)
    assert refused["success"] is False and "--max-streams 3" in refused["error"], refused
    r = requests.delete(f"{gw.url}/v1/streams/{streams[0]['id']}", timeout=10)
    assert r.status_code == 204
    create(gw, {"params": {}})
    create(gw, {"params": {}}, expect=429)


def test_fault_fail_creates(gateway_factory):
    gw = gateway_factory("--fail-creates", "2")
    for _ in range(2):
        r = requests.post(f"{gw.url}/v1/streams", json={"params": {}}, timeout=10)
        assert r.status_code == 500 and "fault" in r.json()["error"]
    create(gw, {"params": {}})


def test_fault_api_delay(gateway_factory):
    gw = gateway_factory("--api-delay", "300")
    start = time.monotonic()
    create(gw, {"params": {}})
    assert time.monotonic() - start >= 0.3


def test_healthz_and_unknown_paths(gateway_factory):
    gw = gateway_factory()
    assert requests.get(f"{gw.url}/healthz", timeout=10).json() == {"ok": True}
    r = requests.get(f"{gw.url}/nope", timeout=10)
    assert r.status_code == 404
    r = requests.post(
        f"{gw.url}/live/video-to-video/stk_nope/whip",
        data="v=0",
        headers={"Content-Type": "application/sdp"},
        timeout=10,
    )
    assert r.status_code == 404


def test_clean_exit_on_sigterm(gateway_factory):
    gw = gateway_factory()
    create(gw, {"params": {}})
    gw.stop()
    assert gw.exited_cleanly(), gw.log_text()


def test_help_lists_fault_switches():
    out = subprocess.run(
        [str(BINARY), "gateway", "--help"], capture_output=True, text=True, timeout=scaled(10)
    ).stdout
    for option in ("--fail-creates", "--never-ready", "--whep-404-seconds", "--mode"):
        assert option in out


def test_route_table_answers_methods_and_paths_as_before(gateway_factory):
    """The route table keeps the old manners: Allow per path, JSON or text errors, the slash."""
    gw = gateway_factory()
    body = {"params": {}}
    r = requests.post(f"{gw.url}/v1/streams/", json=body, timeout=10)
    assert r.status_code == 201, r.text  # Daydream's clients use either form
    stream = r.json()
    base = f"{gw.url}/v1/streams/{stream['id']}"
    live = f"{gw.url}/live/video-to-video/{stream['stream_key']}"
    cases = [
        ("put", base, 405, "GET, PATCH, DELETE", "application/json"),
        ("delete", base + "/status", 405, "GET", "application/json"),
        ("get", f"{gw.url}/v1/streams", 405, "POST", "application/json"),
        ("get", live + "/whip", 405, "POST", "text/plain"),
        ("get", live + "-out/whep", 405, "POST", "text/plain"),
    ]
    for method, url, status, allow, kind in cases:
        r = requests.request(method, url, timeout=10)
        assert r.status_code == status and r.headers["Allow"] == allow, (method, url)
        assert r.headers["Content-Type"].startswith(kind), (method, url)
    for url in (f"{gw.url}/live/video-to-video/stk_nope/whip", f"{live}x-out/whep"):
        r = requests.post(url, data="v=0", headers={"Content-Type": "application/sdp"}, timeout=10)
        assert r.status_code == 404 and r.text == "no stream with this key"
    # daydream mode: a WHIP session takes neither PATCH nor DELETE
    r = requests.delete(live + "/whip/some-session", timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == ""
    assert requests.head(f"{gw.url}/healthz", timeout=10).status_code == 200
