"""Runs one of the puppeteer scripts of tests/browser with node; its verdict is its exit status."""

import json
import os
import pathlib
import shutil
import subprocess
import threading
import time

import pytest
import requests
from gateway_fixture import without_asan_preload
from timescale import scaled

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = os.environ.get("DRTC_CHROMIUM", "/usr/bin/chromium")


def run_node(script, args, timeout=150):
    """The RESULT object the script printed; fails the test with its output otherwise."""
    if not (HERE / "node_modules" / "puppeteer-core").is_dir():
        pytest.fail("tests/browser/node_modules is missing: run scripts/setup (npm ci there)")
    if not shutil.which("node") or not os.path.exists(CHROMIUM):
        pytest.fail(f"node or {CHROMIUM} is missing: run scripts/setup")
    env = dict(without_asan_preload(), DRTC_ARGS=json.dumps(args))  # node, chromium
    try:
        proc = subprocess.run(
            ["node", str(HERE / script)],
            cwd=HERE,
            env=env,
            capture_output=True,
            text=True,
            timeout=scaled(timeout),
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{script} ran over {scaled(timeout):.0f} s\n{e.stdout}\n{e.stderr}")
    results = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not results:
        pytest.fail(f"{script} failed ({proc.returncode})\n{proc.stdout}\n{proc.stderr[-6000:]}")
    return json.loads(results[-1][len("RESULT ") :])


class Pusher(threading.Thread):
    """Posts raw RGB frames of one colour to serve, a few a second, until stopped."""

    def __init__(self, url, rgb, size, fps=10):
        super().__init__(daemon=True)
        self.url, self.rgb, self.size, self.fps = url, rgb, size, fps
        self.running = True

    def run(self):
        http = requests.Session()
        data = bytes(self.rgb) * (self.size * self.size)
        while self.running:
            try:
                http.post(
                    f"{self.url}/frames?width={self.size}&height={self.size}&format=RGB",
                    data=data,
                    headers={"Content-Type": "application/octet-stream"},
                    timeout=10,
                )
            except requests.RequestException:
                pass
            time.sleep(1 / self.fps)

    def stop(self):
        self.running = False
        self.join(scaled(15))
