"""The ComfyUI extension (python-nodes/web) in Chromium, in a stand-in of the ComfyUI page
served by a real aiohttp server with the pack's relay (python-nodes/relay.py)."""

import json
import subprocess

import pytest

from browser_fixture import HERE, run_node
from gateway_fixture import BUILD_DIR
from standin_server import ScriptedServe, StandinComfy
from timescale import scaled

PLAINTEXT = "sk-plaintext-from-the-original-1234"
NEW_KEY = "sk-typed-into-the-field-5678"


@pytest.fixture
def comfy(tmp_path):
    serve = ScriptedServe().start()
    comfy = StandinComfy(
        serve.url, settings={"daydream_live.api_key": PLAINTEXT}, credentials_dir=str(tmp_path)
    ).start()
    yield comfy, serve
    comfy.stop()
    serve.stop()


def test_extension_settings_sidebar_badge_toasts_and_key(comfy):
    comfy, serve = comfy
    serve.extra = {"playback_id": '"><img src=x onerror="window.pwned=1">'}
    serve.config_status = 409
    out = run_node(
        "extension.mjs",
        {
            "url": comfy.url,
            "plaintextKey": PLAINTEXT,
            "newKey": NEW_KEY,
            "notifyUrl": f"{comfy.url}/standin/notify",
            "readsUrl": f"{serve.url}/reads",
            "screenshot": str(BUILD_DIR / "comfyui-sidebar.png"),
        },
    )
    assert out["defs"] == {
        "daydream_live.local_rtc_server": "http://127.0.0.1:8895",
        "daydream_live.api_base_url": "https://api.daydream.live",
        "daydream_live.api_key": "(custom)",
        "daydream_live.api_dashboard_link": "(custom)",
    }
    assert out["tabs"] == [{"id": "DaydreamLive", "title": "Daydream Live", "type": "custom"}]
    # start: the badge went through each phase, in order; stop: STOPPED
    seen = out["badgeSeen"]
    assert [b for b in seen if b in ("CREATING", "STARTING", "ONLINE")][:3] == [
        "CREATING",
        "STARTING",
        "ONLINE",
    ], seen
    assert seen[-1] == "STOPPED", seen
    assert out["sidebarBadge"] == "ONLINE"
    assert "WHIP_ESTABLISHED" in out["stats"] and "250 kbit/s" in out["stats"]
    # Daydream's status poll: the toolbar (shown in the top bar), the sidebar and its icon agree
    remote = out["remote"]
    assert (remote["toolbar"], remote["sidebar"], remote["icon"]) == ("ONLINE",) * 3, remote
    assert remote["toolbarShown"], remote
    assert out["iconAfterStop"] == "", "no icon badge while STOPPED"
    # serve's RTT (to the WHIP peer) and Daydream's fps
    assert remote["stats"]["RTT"] == "12 ms", remote["stats"]
    assert (remote["stats"]["input fps"], remote["stats"]["output fps"]) == ("29.5", "28.5")
    assert any(c.get("action") == "start" for c in comfy.control_calls), "started the server"
    # the toast of the notification, 3.5 s, its text as text
    assert out["toast"] == {
        "severity": "success",
        "summary": "Stream ready",
        "detail": "<b>bold?</b>",
        "life": 3500,
    }
    assert "<b>" not in out["toastHtml"] and "&lt;b&gt;" in out["toastHtml"]
    assert [(t["summary"], t["detail"]) for t in out["failure"]] == [
        ("Saving the runtime settings failed", "the runtime config is locked while streaming")
    ]
    assert out["widgetValue"] == "false", "rtc-stream-widget reset the node's toggle"
    # keys: moved (the field then says so), saved, never shown
    assert out["migratedKey"] == "a key is set (settings)"
    assert out["leaks"] == []
    assert out["keyState"].startswith("a key is set")
    assert comfy.stored_key() == NEW_KEY
    assert comfy.settings["daydream_live.api_key"] == ""
    # polling: about once a second, paused while hidden, back when shown
    assert 2 <= out["visibleReads"] <= 6, out
    assert out["hidden"] == "hidden" and out["hiddenReads"] == 0, out
    assert out["shownAgain"] == "visible" and out["resumedReads"] >= 1, out


def test_extension_escapes_what_the_server_sends(comfy):
    """A playback_id with markup ends up as a URL parameter, never as HTML."""
    comfy, serve = comfy
    serve.extra = {"playback_id": '"><img src=x onerror="window.pwned=1">'}
    out = run_node("escape.mjs", {"url": comfy.url})
    assert out["pwned"] is None and out["imgs"] == 0
    assert out["href"].startswith("https://lvpr.tv/?v=%22%3E%3Cimg")


def test_extension_type_checks_against_the_frontend_types():
    """tsc --checkJs against @comfyorg/comfyui-frontend-types: an API drift fails here."""
    tsc = HERE / "node_modules" / "typescript" / "bin" / "tsc"
    proc = subprocess.run(
        ["node", str(tsc), "-p", str(HERE / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=scaled(240),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pinned = json.loads((HERE / "package.json").read_text())["devDependencies"]
    assert not any(v.startswith(("^", "~")) for v in pinned.values()), "versions are pinned"


def test_extension_core_under_node_test():
    """node --test core.test.mjs: the badge mapping case by case, the clamps, the URLs, RTTs."""
    proc = subprocess.run(
        ["node", "--test", str(HERE / "core.test.mjs")],
        capture_output=True,
        text=True,
        timeout=scaled(60),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "# fail 0" in proc.stdout and "# pass 4" in proc.stdout
