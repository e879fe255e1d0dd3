"""Guards for every pytest suite of the project."""

import os
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop"))

from timescale import SCALE, scaled  # noqa: E402


def _scale_request_timeouts():
    """requests.get/post/... (what the tests call; the node pack's own sessions are left
    alone) wait DRTC_TEST_TIME_SCALE times their timeout: one place for every HTTP wait."""
    import requests.api

    plain = requests.api.request

    def request(method, url, **kwargs):
        timeout = kwargs.get("timeout")
        if isinstance(timeout, (int, float)):
            kwargs["timeout"] = scaled(timeout)
        elif isinstance(timeout, tuple):
            kwargs["timeout"] = tuple(scaled(t) if t is not None else None for t in timeout)
        return plain(method, url, **kwargs)

    requests.api.request = request


if SCALE > 1:
    _scale_request_timeouts()


def _foreground_threads():
    """Threads that would keep the interpreter from exiting (idle executor workers excepted:
    the executor's exit handler ends them)."""
    return {
        t
        for t in threading.enumerate()
        if t is not threading.main_thread()
        and not t.daemon
        and t.is_alive()
        and not t.name.startswith("ThreadPoolExecutor-")
    }


@pytest.fixture(autouse=True)
def no_thread_outlives_the_test():
    """A test that leaves a non-daemon thread running (an aiortc peer connection never closed
    keeps its decoder thread) would hang the whole run at exit: it fails here instead."""
    before = _foreground_threads()
    yield
    deadline = time.monotonic() + scaled(5)
    while (left := _foreground_threads() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    if left:
        names = ", ".join(sorted(t.name for t in left))
        pytest.fail(f"the test left threads running: {names}", pytrace=False)


_exit_status = {"value": 0}


def pytest_sessionfinish(session, exitstatus):
    _exit_status["value"] = int(exitstatus)


def pytest_unconfigure(config):
    """Backstop: with a leaked thread still running, end the process now (the summary is
    already printed) instead of waiting forever for the thread at interpreter exit."""
    left = _foreground_threads()
    if left:
        names = ", ".join(sorted(t.name for t in left))
        print(f"conftest: exiting past running threads: {names}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status["value"] or 1)
