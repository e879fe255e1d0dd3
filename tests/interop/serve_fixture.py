"""Start `daydream-rtc serve` for tests: a real process on 127.0.0.1."""

import os
import pathlib
import select
import subprocess
import tempfile

import pytest

from timescale import scaled
from gateway_fixture import BINARY, BUILD_DIR, exit_problem, fail_on_bad_exits, stop_process


class Serve:
    def __init__(self, *args, env=None, settings_dir=None):
        self.settings_dir = settings_dir or tempfile.mkdtemp(prefix="drtc-settings-")
        self.log = tempfile.NamedTemporaryFile(prefix="serve-", suffix=".log", delete=False)
        full_env = dict(os.environ)
        full_env.setdefault("GST_PLUGIN_PATH_1_0", str(BUILD_DIR / "gst"))
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [str(BINARY), "serve", "--port", "0", "--settings-dir", self.settings_dir, *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=full_env,
            text=True,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], scaled(15))
        line = self.proc.stdout.readline() if ready else ""
        if "listening on " not in line:
            self.stop()
            pytest.fail(f"serve did not start: {line!r}\n{self.log_text()}")
        self.url = line.split("listening on ")[1].split()[0]

    def log_text(self):
        return pathlib.Path(self.log.name).read_text(errors="replace")

    def stop(self):
        self.killed = stop_process(self.proc, 30) or getattr(self, "killed", False)
        self.proc.stdout.close()
        self.log.close()

    def exit_problem(self):
        return exit_problem("serve", self.proc, self.killed, self.log_text())


@pytest.fixture
def serve_factory():
    started = []

    def start(*args, env=None, settings_dir=None):
        s = Serve(*args, env=env, settings_dir=settings_dir)
        started.append(s)
        return s

    yield start
    fail_on_bad_exits(started)
