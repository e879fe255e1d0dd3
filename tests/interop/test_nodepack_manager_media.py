"""The manager with media (inside scripts/netns-run): the offline mode runs the local gateway
and points serve at it; a key saved through /rtc/credentials reaches the running serve."""

import os

import pytest
import requests

from drtc_peers import in_drtc_netns
from manager_fixture import free_base, gone
from routes_fixture import ComfyServer

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)
START = {"stream_name": "t", "frame_rate": 10, "frame_width": 128, "frame_height": 128}


def test_offline_mode_runs_the_local_gateway(fresh_pack, monkeypatch):
    monkeypatch.setenv("DAYDREAM_API_URL", "local")
    monkeypatch.delenv("DAYDREAM_API_KEY")  # none needed offline
    fresh_pack.sub("settings").save_settings(port=free_base())
    status = fresh_pack.manager.ensure_running()
    assert status["running"] and status["offline"]
    gateway_pid = fresh_pack.manager.gateway.pid()
    rtc = fresh_pack.sub("api").client_for()
    started = rtc.start(START)
    assert started["stream_id"].startswith("str_")
    assert started["whip_url"].startswith(fresh_pack.manager.gateway_url)
    rtc.stop()
    fresh_pack.manager.stop()
    assert gone(gateway_pid) and gone(status["pid"])


def test_a_saved_key_reaches_the_running_serve(fresh_pack, gateway_factory, tmp_path, monkeypatch):
    wanted = "key-the-gateway-wants-5c1e"
    key_file = tmp_path / "gateway.key"
    key_file.write_text(wanted)
    os.chmod(key_file, 0o600)
    gw = gateway_factory("--api-key-file", str(key_file))
    monkeypatch.setenv("DAYDREAM_API_URL", gw.url)
    monkeypatch.setenv("DAYDREAM_API_KEY", "an-old-key")
    fresh_pack.sub("settings").save_settings(port=free_base())
    pid = fresh_pack.manager.ensure_running()["pid"]
    rtc = fresh_pack.sub("api").client_for()
    with pytest.raises(fresh_pack.sub("client").RtcApiError) as refused:
        rtc.start(START)
    assert refused.value.status == 502 and "401" in refused.value.detail
    comfy = ComfyServer(fresh_pack.prompt_server.routes)
    try:
        r = requests.post(f"{comfy.url}/rtc/credentials", json={"api_key": wanted}, timeout=30)
        assert r.status_code == 200 and wanted not in r.text
    finally:
        comfy.close()
    assert rtc.start(START)["stream_id"].startswith("str_")  # no restart needed
    assert fresh_pack.manager.status()["pid"] == pid
    rtc.stop()
