"""Start and stop `daydream-rtc gateway` for tests (real process, real HTTP on 127.0.0.1)."""

import os
import pathlib
import select
import signal
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("DRTC_BUILD_DIR", ROOT / "build")).resolve()
BINARY = BUILD_DIR / "app" / "daydream-rtc"


class Gateway:
    """One running gateway; `url` is its base, e.g. http://127.0.0.1:40123."""

    def __init__(self, *args, env=None):
        if not BINARY.exists():
            pytest.fail(f"{BINARY} is not built (meson compile -C build)")
        self.log = tempfile.NamedTemporaryFile(prefix="gateway-", suffix=".log", delete=False)
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env.setdefault("GST_PLUGIN_PATH_1_0", str(BUILD_DIR / "gst"))
        self.proc = subprocess.Popen(
            [str(BINARY), "gateway", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=full_env,
            text=True,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline() if ready else ""
        if "listening on " not in line:
            self.stop()
            pytest.fail(f"gateway did not start: {line!r}\n{self.log_text()}")
        self.url = line.split("listening on ")[1].split()[0]

    def log_text(self):
        return pathlib.Path(self.log.name).read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()
        self.log.close()

    def exited_cleanly(self):
        return self.proc.returncode == 0


@pytest.fixture
def gateway_factory():
    """gateway_factory(*args, env=None) -> Gateway; all are stopped at the end of the test."""
    started = []

    def start(*args, env=None):
        gw = Gateway(*args, env=env)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()
        os.unlink(gw.log.name)


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Poll predicate() until it returns a truthy value; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
