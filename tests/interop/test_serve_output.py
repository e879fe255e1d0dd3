"""What `daydream-rtc serve` prints for people and tools: --help, the missing-key error and
/metrics (checked with promtool, Debian's `prometheus`, on a serve that streams).

The streaming test makes WebRTC connections: it runs inside scripts/netns-run only.
"""

import os
import subprocess

import pytest

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
