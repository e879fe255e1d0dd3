"""The REST sessions of README.md and docs/rest-api.md, run as written (bash, curl, fixed ports
8895/8896) against the build: what the docs show must work when pasted.

They make WebRTC connections and use fixed ports: inside scripts/netns-run only.
"""

import os
import pathlib
import signal
import subprocess

import pytest

from drtc_peers import in_drtc_netns
from gateway_fixture import BAD_LOG, BUILD_DIR, ROOT, without_asan_preload
from timescale import scaled

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections and fixed ports: scripts/netns-run only"
)


def sh_block(doc, heading):
    """The first ```sh block under `heading` in `doc` (a path below the repository root)."""
    text = (ROOT / doc).read_text()
    rest = text[text.index(heading) :]
    start = rest.index("```sh\n") + len("```sh\n")
    return rest[start : rest.index("```\n", start)]


def run_block(doc, heading, tmp_path):
    """Runs the block with bash in a directory whose build/ is the build under test (the
    commands name build/..., DRTC_BUILD_DIR: build-asan/ under scripts/test --sanitize);
    returns its output, which must be free of GLib-CRITICALs and sanitizer reports."""
    # the commands name build/...: a directory whose build/ is the build under test
    (tmp_path / "build").symlink_to(BUILD_DIR)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GST_PLUGIN_PATH")}
    env.pop("DAYDREAM_API_KEY", None)
    env = without_asan_preload(env)  # the block's programs: curl, gst-launch, our binary
    proc = subprocess.Popen(
        ["bash", "-c", sh_block(doc, heading)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    limit = scaled(120)
    try:
        out, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"{doc} did not finish in {limit:.0f} s:\n{out}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever the block left behind
        except ProcessLookupError:
            pass
    assert proc.returncode == 0, out
    bad = BAD_LOG.search(out)
    assert bad is None, f"{bad.group(0)!r} in:\n{out}"
    return out


@pytest.mark.parametrize(
    "doc,heading",
    [("README.md", "## The REST API in one minute"), ("docs/rest-api.md", "## With curl")],
)
def test_rest_session_runs_as_written(doc, heading, tmp_path):
    out = run_block(doc, heading, tmp_path)
    assert '"running":true' in out and '"updated":true' in out, out
    assert '"running":false' in out and '{"detail"' not in out, out
    assert pathlib.Path(tmp_path, "out.jpg").read_bytes()[:2] == b"\xff\xd8", out


def test_gateway_session_runs_as_written(tmp_path):
    out = run_block("README.md", "## The local gateway in one minute", tmp_path)
    assert '"id":"str_' in out and '"success":true' in out, out
    assert '"params":{"prompt":"invert"}' in out and '{"detail"' not in out, out
