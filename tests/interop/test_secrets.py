"""Secrets and identifiers of `serve` and the gateway (issue 15, section 4): key files, the
refusal of a LAN bind without a key, and ids/keys with 128 random bits.

No peer connections here. The redirect policy of the Daydream client and of WHIP/WHEP is
tested in C (tests/common/http.c), against two local servers on 127.0.0.1 and 127.0.0.2.
"""

import os
import re
import subprocess
import sys

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gateway_fixture import BINARY, BUILD_DIR  # noqa: E402
from timescale import scaled  # noqa: E402

ENV = dict(os.environ, GST_PLUGIN_PATH_1_0=str(BUILD_DIR / "gst"))
ENV.pop("DRTC_GATEWAY_API_KEY", None)
ENV.pop("DAYDREAM_API_KEY", None)
HEX128 = "[0-9a-f]{32}"


def run(*args, env=None):
    return subprocess.run(
        [str(BINARY), *args], capture_output=True, text=True, timeout=scaled(20), env=env or ENV
    )


def private_file(tmp_path, text):
    f = tmp_path / "secret"
    f.write_text(text)
    f.chmod(0o600)
    return str(f)


def test_serve_empty_token_file_says_so(tmp_path):
    token_file = private_file(tmp_path, " \n")
    proc = run("serve", "--port", "0", "--access-token-file", token_file)
    assert proc.returncode == 2, proc.stderr
    assert "access token file" in proc.stderr and "is empty" in proc.stderr, proc.stderr
    assert "Daydream API key" not in proc.stderr


def test_gateway_empty_key_file_is_refused(tmp_path):
    proc = run("gateway", "--port", "0", "--api-key-file", private_file(tmp_path, "\r\n"))
    assert proc.returncode == 2 and "is empty" in proc.stderr, proc.stderr


def test_gateway_refuses_a_lan_bind_without_a_key():
    for env in (ENV, dict(ENV, DRTC_GATEWAY_API_KEY="")):
        proc = run("gateway", "--port", "0", "--host", "0.0.0.0", env=env)
        assert proc.returncode == 2, proc.stderr
        assert "not loopback" in proc.stderr and "--api-key-file" in proc.stderr


def test_gateway_lan_bind_with_a_key(gateway_factory, tmp_path):
    gw = gateway_factory("--host", "0.0.0.0", "--api-key-file", private_file(tmp_path, "k\n"))
    port = gw.url.rsplit(":", 1)[1]
    r = requests.get(f"http://127.0.0.1:{port}/v1/streams/str_x", timeout=10)
    assert r.status_code == 401


def test_gateway_ids_and_keys_have_128_random_bits(gateway_factory):
    gw = gateway_factory()
    seen = set()
    for _ in range(20):
        r = requests.post(
            f"{gw.url}/v1/streams", json={"pipeline": "streamdiffusion", "params": {}}, timeout=10
        )
        assert r.status_code == 201, r.text
        s = r.json()
        assert re.fullmatch(f"str_{HEX128}", s["id"]), s["id"]
        assert re.fullmatch(f"stk_{HEX128}", s["stream_key"])
        assert re.fullmatch(HEX128, s["output_playback_id"])
        for value in (s["id"], s["stream_key"], s["output_playback_id"]):
            assert value not in seen
            seen.add(value)
