"""Test 5 of issue 14: every case of spec §9.9 for /rtc/control and /rtc/credentials, on a real
aiohttp app with the pack's routes registered (the way ComfyUI's PromptServer serves them)."""

import json
import os
import stat

import pytest
import requests

from manager_fixture import free_base
from routes_fixture import ComfyServer

IDLE = {"running": False, "host": None, "port": None, "pid": None, "type": "local"}
SPEC_KEYS = ("running", "host", "port", "pid", "type")


@pytest.fixture
def comfy(fresh_pack):
    server = ComfyServer(fresh_pack.prompt_server.routes)
    server.pack = fresh_pack
    yield server
    server.close()


def spec_part(status):
    return {k: status[k] for k in SPEC_KEYS}


def control(comfy, body=None, data=None):
    r = requests.post(f"{comfy.url}/rtc/control", json=body, data=data, timeout=60)
    return r.status_code, r.json()


def test_control_status_forms(comfy):
    r = requests.get(f"{comfy.url}/rtc/control", timeout=10)
    assert r.status_code == 200 and r.json()["success"] is True
    assert spec_part(r.json()["status"]) == IDLE
    for body, data in (({"action": "status"}, None), ({}, None), (None, "{not json")):
        code, answer = control(comfy, body, data)
        assert code == 200 and answer["success"] is True and spec_part(answer["status"]) == IDLE


def test_control_start_stop_restart(comfy):
    base = free_base()
    code, answer = control(
        comfy, {"action": "Start", "settings": {"host": " 127.0.0.1 ", "port": str(base)}}
    )
    assert code == 200 and answer["success"] is True
    status = answer["status"]
    assert status["running"] and status["host"] == "127.0.0.1" and status["port"] == base
    assert isinstance(status["pid"], int) and status["type"] == "local"
    code, answer = control(comfy, {"action": "restart", "port": base})
    assert code == 200 and answer["success"] is True and answer["status"]["pid"] != status["pid"]
    code, answer = control(comfy, {"action": "STOP"})
    assert code == 200 and answer == {"success": True, "status": {**IDLE, **extra(answer)}}
    code, answer = control(comfy, {"action": "stop"})
    assert code == 200 and answer["success"] is False and spec_part(answer["status"]) == IDLE


def extra(answer):
    return {k: v for k, v in answer["status"].items() if k not in SPEC_KEYS}


def test_control_port_forms(comfy):
    base = free_base()
    comfy.pack.sub("settings").save_settings(port=base)
    code, answer = control(comfy, {"action": "start", "port": "not-a-port", "host": "  "})
    assert code == 200 and answer["status"]["port"] == base  # none given: the settings' port
    control(comfy, {"action": "stop"})
    other = free_base()
    code, answer = control(comfy, {"action": "start", "port": other, "settings": {"port": True}})
    # "settings" overrides the top level, and a boolean is no port: the settings' port again
    assert answer["status"]["port"] == base
    control(comfy, {"action": "stop"})
    code, answer = control(comfy, {"action": "start", "port": 1, "settings": {"port": other}})
    assert answer["status"]["port"] == other


def test_control_errors(comfy, monkeypatch):
    code, answer = control(comfy, {"action": "reboot"})
    assert code == 400 and answer == {"success": False, "error": "Invalid action 'reboot'"}
    monkeypatch.delenv("DAYDREAM_API_KEY")
    code, answer = control(comfy, {"action": "start", "port": free_base()})
    assert code == 500 and answer["success"] is False
    assert answer["error"].startswith("Daydream credentials missing. Set DAYDREAM_API_KEY")


def credentials(comfy, body=None):
    if body is None:
        r = requests.get(f"{comfy.url}/rtc/credentials", timeout=10)
    else:
        r = requests.post(f"{comfy.url}/rtc/credentials", json=body, timeout=60)
    return r.status_code, r.json(), r.text


def test_credentials_sources(comfy, monkeypatch):
    code, answer, _ = credentials(comfy)
    assert code == 200 and answer == {
        "success": True,
        "credentials": {
            "api_url": "https://api.daydream.live",
            "has_api_key": True,
            "sources": {"api_url": "default", "api_key": "env"},
        },
    }
    monkeypatch.delenv("DAYDREAM_API_KEY")
    monkeypatch.setenv("DAYDREAM_API_URL", "http://127.0.0.1:1/")
    _, answer, _ = credentials(comfy)
    assert answer["credentials"] == {
        "api_url": "http://127.0.0.1:1",
        "has_api_key": False,
        "sources": {"api_url": "env", "api_key": "missing"},
    }


def test_credentials_are_saved_normalised_and_never_echoed(comfy):
    code, answer, text = credentials(
        comfy, {"api_url": "https://example.com/v1/", "api_key": "abc123\n"}
    )
    assert code == 200 and answer["credentials"] == {
        "api_url": "https://example.com/v1",
        "has_api_key": True,
        "sources": {"api_url": "settings", "api_key": "settings"},
    }
    assert "abc123" not in text
    settings = comfy.pack.sub("settings")
    key_file = settings.key_file()
    assert key_file.read_text().strip() == "abc123"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "abc123" not in (settings.settings_dir() / "settings.json").read_text()
    comfy_settings = os.path.join(os.environ.get("COMFYUI_STANDIN_USER_DIR", ""), "default")
    assert not os.path.exists(os.path.join(comfy_settings, "comfy.settings.json"))
    _, answer, _ = credentials(comfy, {"api_key": "", "api_url": ""})
    assert answer["credentials"]["sources"] == {"api_url": "default", "api_key": "env"}
    assert answer["credentials"]["api_url"] == "https://api.daydream.live"
    assert not key_file.exists()
    assert json.loads((settings.settings_dir() / "settings.json").read_text())["api_url"] == (
        "https://api.daydream.live"  # an empty URL stores the default
    )


@pytest.mark.parametrize("field", ["api_url", "api_key"])
def test_credentials_reject_non_strings(comfy, field):
    code, answer, _ = credentials(comfy, {field: 5})
    assert code == 400 and answer == {"success": False, "error": f"{field} must be a string"}


def test_credentials_write_failure(comfy):
    comfy.pack.sub("settings").key_file().mkdir()  # the file's place is taken: the rename fails
    code, answer, _ = credentials(comfy, {"api_key": "k2"})
    assert code == 500 and answer == {"success": False, "error": "Persistence failed"}


def test_a_new_api_url_restarts_the_managed_serve(comfy):
    _, answer = control(comfy, {"action": "start", "port": free_base()})
    before = answer["status"]["pid"]
    code, _, _ = credentials(comfy, {"api_url": "http://127.0.0.1:9"})
    assert code == 200
    after = comfy.pack.manager.status()
    assert after["running"] and after["pid"] not in (None, before)
    cmdline = open(f"/proc/{after['pid']}/cmdline", "rb").read().split(b"\0")
    assert cmdline[cmdline.index(b"--api-url") + 1] == b"http://127.0.0.1:9"
