"""What `daydream-rtc serve` prints for people and tools: --help, the missing-key error and
/metrics (checked with promtool, Debian's `prometheus`, on a serve that streams).

The streaming test makes WebRTC connections: it runs inside scripts/netns-run only.
"""

import os
import re
import shutil
import subprocess
import threading
import time

import pytest
import requests

from drtc_peers import in_drtc_netns
from gateway_fixture import BINARY, wait_until
from timescale import scaled

SIZE = 64


def help_text(*command):
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    out = subprocess.run(
        [str(BINARY), *command, "--help"], env=env, capture_output=True, timeout=scaled(30)
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


def families_in_order(text):
    """[(family, help, type, [sample lines])] in the order of the text; fails on a sample
    before its family's HELP and TYPE or on a family that comes back after another."""
    families, seen = [], set()
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, name, rest = line[2:6], *line[7:].split(" ", 1)
            if not families or families[-1][0] != name:
                assert name not in seen, f"family {name} is split"
                seen.add(name)
                families.append([name, None, None, []])
            families[-1][1 if kind == "HELP" else 2] = rest
            continue
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        assert families and families[-1][0] == name, f"sample outside its family: {line}"
        families[-1][3].append(line)
    return families


def value(text, sample):
    m = re.search("^" + re.escape(sample) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def push_frames(url, stop):
    http = requests.Session()
    data = bytes((200, 40, 40)) * (SIZE * SIZE)
    while not stop.is_set():
        http.post(
            f"{url}/frames?width={SIZE}&height={SIZE}&format=RGB",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            timeout=10,
        )
        time.sleep(1 / 30)


@pytest.mark.skipif(not in_drtc_netns(), reason="WebRTC runs only inside scripts/netns-run")
@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian prometheus) missing")
def test_metrics_of_a_streaming_serve_pass_promtool(gateway_factory, serve_factory):
    gw = gateway_factory()
    s = serve_factory(env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": "any-key"})
    body = {"frame_rate": 30, "frame_width": SIZE, "frame_height": SIZE}
    r = requests.post(f"{s.url}/start", json=body, timeout=30)
    assert r.status_code == 200, r.text
    # a second stream, idle: every family then has two samples that must stay together
    cfg = {"frame_rate": 30, "frame_width": 1280, "frame_height": 720}
    assert requests.post(f"{s.url}/streams/second/config", json=cfg, timeout=5).status_code == 200
    stop = threading.Event()
    pusher = threading.Thread(target=push_frames, args=(s.url, stop), daemon=True)
    pusher.start()
    try:
        text = wait_until(
            lambda: (
                (t := requests.get(f"{s.url}/metrics", timeout=5).text)
                and (value(t, 'daydream_rtc_bytes_sent_total{stream="default"}') or 0) > 0
                and t
            ),
            20,
            0.2,
            "bytes sent in /metrics",
        )
    finally:
        stop.set()
        pusher.join(scaled(15))
    check = subprocess.run(
        ["promtool", "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=scaled(30),
    )
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    families = families_in_order(text)
    for name, help_, type_, samples in families:
        assert help_ and type_ in ("counter", "gauge"), name
        if name != "daydream_rtc_http_requests_total":
            assert [re.search(r'stream="(\w+)"', x).group(1) for x in samples] == [
                "default",
                "second",
            ], name
    names = [f[0] for f in families]
    assert "daydream_rtc_frames_in_total" in names and "daydream_rtc_fps" in names
    assert value(text, 'daydream_rtc_running{stream="default"}') == 1
    assert value(text, 'daydream_rtc_running{stream="second"}') == 0
    assert value(text, 'daydream_rtc_frames_in_total{stream="default"}') > 0
    assert value(text, 'daydream_rtc_http_requests_total{route="/start",status="200"}') == 1
