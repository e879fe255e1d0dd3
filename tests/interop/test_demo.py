"""scripts/demo's job (examples/serve-demo.py) end to end against the local gateway."""

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from drtc_peers import in_drtc_netns
from gateway_fixture import BINARY, BUILD_DIR, ROOT, sanitized_build
from timescale import scaled

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)


def test_demo_writes_images_and_a_true_summary(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DAYDREAM_API_KEY"}
    env["GST_PLUGIN_PATH_1_0"] = str(BUILD_DIR / "gst")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "serve-demo.py"),
            "--binary",
            str(BINARY),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=scaled(120),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["service"] == "local gateway" and summary["stream_id"].startswith("str_")
    assert summary["latency_samples"] >= 1
    if not sanitized_build():  # rates of an uninstrumented build: ASan runs several times slower
        assert summary["received_fps"] > 20 and summary["sent_fps"] > 20
        assert summary["latency_samples"] >= 10 and summary["latency_ms_p50"] < 500
    # the prompt change shows: "inverted colours" turns the picture around
    assert summary["mean_abs_change_after_patch"] > 40
    assert summary["final_phase"] == "STOPPED"
    for name in ("input.png", "before.png", "after.png"):
        assert Image.open(tmp_path / name).size == (512, 512)
