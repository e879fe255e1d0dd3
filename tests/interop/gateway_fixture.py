"""Start and stop `daydream-rtc gateway` for tests (real process, real HTTP on 127.0.0.1)."""

import os
import pathlib
import re
import select
import signal
import subprocess
import tempfile
import time

import pytest

from timescale import scaled

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("DRTC_BUILD_DIR", ROOT / "build")).resolve()
BINARY = BUILD_DIR / "app" / "daydream-rtc"

# What in a child's log means it went wrong even when it answered every request: a
# GLib-CRITICAL, or a report of AddressSanitizer, LeakSanitizer or UBSan (scripts/test
# --sanitize).
BAD_LOG = re.compile(r"-CRITICAL \*\*|ERROR: (Address|Leak)Sanitizer|runtime error:")


def sanitized_build():
    """True when the binary under test is built with AddressSanitizer (build-asan/)."""
    try:
        return b"__asan_init" in BINARY.read_bytes()
    except OSError:
        return False


def without_asan_preload(env=None):
    """``env`` (default: ours) without LD_PRELOAD, for programs that load nothing of ours:
    scripts/test --sanitize preloads the ASan runtime for python and gst-launch, and curl, ps
    and chromium hang at start with it."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k != "LD_PRELOAD"}


def exit_problem(name, proc, killed, log_text):
    """Why a child we started and stopped counts as a failure, or None: it crashed (a
    signal, a non-zero status), did not stop on SIGTERM, or its log has a report."""
    if killed:
        return f"{name} did not exit on SIGTERM and was killed"
    if proc.returncode != 0:
        return f"{name} exited with status {proc.returncode}"
    bad = BAD_LOG.search(log_text)
    if bad:
        return f"{name}'s log has {bad.group(0)!r}"
    return None


def stop_process(proc, wait_s):
    """SIGTERM, then SIGKILL after wait_s; True when it had to be killed."""
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(scaled(wait_s))
        return False
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(scaled(5))
        return True


def fail_on_bad_exits(started):
    """Stops every child of a factory; fails the test when one of them crashed."""
    problems = []
    for child in started:
        child.stop()
        problem = child.exit_problem()
        if problem:
            problems.append(f"{problem}\n{child.log_text()[-4000:]}")
        os.unlink(child.log.name)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


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
        ready, _, _ = select.select([self.proc.stdout], [], [], scaled(15))
        line = self.proc.stdout.readline() if ready else ""
        if "listening on " not in line:
            self.stop()
            pytest.fail(f"gateway did not start: {line!r}\n{self.log_text()}")
        self.url = line.split("listening on ")[1].split()[0]

    def log_text(self):
        return pathlib.Path(self.log.name).read_text(errors="replace")

    def stop(self):
        self.killed = stop_process(self.proc, 20) or getattr(self, "killed", False)
        self.proc.stdout.close()
        self.log.close()

    def exited_cleanly(self):
        return self.proc.returncode == 0

    def exit_problem(self):
        return exit_problem("the gateway", self.proc, self.killed, self.log_text())


@pytest.fixture
def gateway_factory():
    """gateway_factory(*args, env=None) -> Gateway; all are stopped at the end of the test."""
    started = []

    def start(*args, env=None):
        gw = Gateway(*args, env=env)
        started.append(gw)
        return gw

    yield start
    fail_on_bad_exits(started)


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Poll predicate() until it returns a truthy value; fail after timeout seconds (scaled)."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
