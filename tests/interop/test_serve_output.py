"""What `daydream-rtc serve` prints for people and tools: --help, the missing-key error and
/metrics (checked with promtool, Debian's `prometheus`, on a serve that streams).

The streaming test makes WebRTC connections: it runs inside scripts/netns-run only.
"""

import os
import subprocess

import pytest
import requests

from gateway_fixture import BINARY


def help_text(*command):
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    out = subprocess.run(
        [str(BINARY), *command, "--help"], env=env, capture_output=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.decode("utf-8")


@pytest.mark.parametrize("command", ["serve", "gateway"])
def test_usage_line_has_an_ellipsis_in_a_utf8_locale(command):
    usage = help_text(command).splitlines()[1]
    assert usage.startswith("  daydream-rtc [OPTION\u2026]"), usage


def test_missing_key_names_what_to_set(serve_factory):
    # the key is checked before any request: the unreachable URL is never called
    s = serve_factory(env={"DAYDREAM_API_KEY": "", "DAYDREAM_API_URL": "http://127.0.0.1:9"})
    r = requests.post(f"{s.url}/start", json={}, timeout=30)
    assert r.status_code == 500
    detail = r.json()["detail"]
    assert detail.startswith("Daydream API key is missing.")  # the reference tool's words
    assert "DAYDREAM_API_KEY" in detail and "--api-key-file" in detail
    assert "pass api_key" not in detail, "no body field takes an api_key"
    assert "--api-key-file" in help_text("serve")
