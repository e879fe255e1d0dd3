"""Pipelines with our elements end: EOS events, downstream EOS, gst-launch-1.0 -e recordings.

Against the local gateway, inside scripts/netns-run (real WebRTC peers). Every wait is bounded.
"""

import os
import signal
import subprocess
import time

import pytest
import requests

from drtc_peers import in_drtc_netns
from gateway_fixture import BUILD_DIR, wait_until
from gst_fixture import Gst, Pipeline, states
from timescale import scaled, scaled_int

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)

KEY = "dd-eos-key-61b2"
# a test card rather than a solid colour: its frames fill the file at a steady pace
PATTERN = "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1"


def create(gw):
    r = requests.post(
        f"{gw.url}/v1/streams", json={"params": {"prompt": "plain", "delta": 0.0}}, timeout=10
    )
    assert r.status_code == 201, r.text
    return r.json()


def whep_url(gw, stream):
    return f"{gw.url}/live/video-to-video/{stream['stream_key']}-out/whep"


def got_eos(pipe):
    pipe.poll()
    return any(m.type == Gst.MessageType.EOS for m in pipe.messages)


def publishing(gw):
    """A whipsink publishing a live source to a new stream; the stream and the pipeline."""
    stream = create(gw)
    pub = Pipeline(f"{PATTERN} ! whipsink whip-endpoint={stream['whip_url']}")
    pub.play()
    pub.wait_for(lambda p: "connected" in states(p), what="whipsink connected")
    return stream, pub


def gst_env():
    env = dict(os.environ)
    env["GST_PLUGIN_PATH_1_0"] = str(BUILD_DIR / "gst")
    env.setdefault("GST_REGISTRY_1_0", str(BUILD_DIR / "tests" / "registry-interop.bin"))
    return env


def discovered_duration_s(path):
    """gst-discoverer-1.0's duration of @path in seconds (fails if it cannot read the file)."""
    out = subprocess.run(
        ["gst-discoverer-1.0", str(path)],
        capture_output=True,
        text=True,
        timeout=scaled(60),
        env=gst_env(),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "H.264" in out.stdout, out.stdout
    line = next(x for x in out.stdout.splitlines() if x.strip().startswith("Duration:"))
    h, m, s = line.split("Duration:")[1].strip().split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def wait_for_size(path, size, timeout=30):
    wait_until(
        lambda: path.exists() and path.stat().st_size > size, timeout, what=f"{path} > {size} B"
    )


def record_then_send_eos(pipe, out):
    """Play @pipe until @out has grown, send it an EOS event; @out must then be playable."""
    try:
        pipe.play()
        wait_for_size(out, 100000)
        pipe.pipeline.send_event(Gst.Event.new_eos())
        pipe.wait_for(got_eos, 20, "EOS on the bus")
        assert not pipe.errors()
    finally:
        pipe.stop()
    assert discovered_duration_s(out) > 0


def test_whepsrc_ends_at_downstream_eos(gateway_factory):
    """identity eos-after=N returns GST_FLOW_EOS to whepsrc: the pipeline gets its EOS."""
    gw = gateway_factory()
    stream, pub = publishing(gw)
    pipe = Pipeline(
        f"whepsrc name=src whep-endpoint={whep_url(gw, stream)} retry-interval=200 "
        f"media-timeout={scaled_int(300)} ! identity eos-after=30 ! fakesink"
    )
    try:
        pipe.play()
        pipe.wait_for(got_eos, 30, "EOS on the bus")
        assert not pipe.errors()
        # the element's work is over: no new session when the media stops (a
        # check for something that must not happen: it can pass late, never fail early)
        pub.stop()
        deadline = time.monotonic() + scaled(2.0)
        while time.monotonic() < deadline:
            pipe.poll(0.1)
        assert "reconnecting" not in states(pipe, "whep-state"), states(pipe, "whep-state")
    finally:
        pipe.stop()
        pub.stop()


def whepsrc_error(pipe):
    """The first error the whepsrc named src posted itself, or None."""
    pipe.poll()
    for m in pipe.messages:
        if m.type == Gst.MessageType.ERROR and m.src.get_name() == "src":
            return m.parse_error()[0].message
    return None


def test_whepsrc_a_downstream_flow_error_is_its_error(gateway_factory):
    """identity error-after=N returns GST_FLOW_ERROR: an element error, not a reconnect loop."""
    gw = gateway_factory()
    stream, pub = publishing(gw)
    pipe = Pipeline(
        f"whepsrc name=src whep-endpoint={whep_url(gw, stream)} decode=false retry-interval=200 "
        "! identity error-after=30 ! fakesink"
    )
    try:
        pipe.play()
        pipe.wait_for(whepsrc_error, 30, "an error of whepsrc")
        assert "Downstream refused the stream" in whepsrc_error(pipe)
        assert "reconnecting" not in states(pipe, "whep-state"), states(pipe, "whep-state")
    finally:
        pipe.stop()
        pub.stop()


def test_whepsrc_eos_event_finishes_an_mp4(gateway_factory, tmp_path):
    """An EOS sent to the pipeline goes out of whepsrc: mp4mux writes its moov."""
    gw = gateway_factory()
    stream, pub = publishing(gw)
    out = tmp_path / "rec.mp4"
    pipe = Pipeline(
        f"whepsrc whep-endpoint={whep_url(gw, stream)} decode=false retry-interval=200 "
        f"! h264parse ! mp4mux ! filesink location={out}"
    )
    try:
        record_then_send_eos(pipe, out)
    finally:
        pub.stop()


def test_gst_launch_e_records_a_playable_mp4(gateway_factory, tmp_path):
    """The documented recording: gst-launch-1.0 -e ..., then Ctrl-C (SIGINT)."""
    gw = gateway_factory()
    stream, pub = publishing(gw)
    out = tmp_path / "out.mp4"
    proc = subprocess.Popen(
        [
            "gst-launch-1.0",
            "-e",
            "whepsrc",
            f"whep-endpoint={whep_url(gw, stream)}",
            "decode=false",
            "!",
            "h264parse",
            "!",
            "mp4mux",
            "!",
            "filesink",
            f"location={out}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=gst_env(),
    )
    try:
        wait_for_size(out, 100000)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=scaled(30))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        pub.stop()
    assert proc.returncode == 0, output
    assert "EOS" in output, output
    assert discovered_duration_s(out) > 0


@pytest.mark.parametrize("endpoint", ["gateway", "refused"])
def test_whipsink_pipeline_ends_at_eos(gateway_factory, endpoint):
    """A finite source ends a whipsink pipeline, connected or still retrying."""
    if endpoint == "gateway":
        url = create(gateway_factory())["whip_url"]
    else:
        url = "http://127.0.0.1:9/whip"
    pipe = Pipeline(
        "videotestsrc is-live=true num-buffers=45 ! video/x-raw,width=320,height=240 ! "
        f"whipsink name=sink whip-endpoint={url}"
    )
    try:
        pipe.play()
        pipe.wait_for(got_eos, 30, "EOS on the bus")
        assert not pipe.errors()
    finally:
        pipe.stop()


def test_daydreamcontrol_pipeline_ends_at_eos(gateway_factory, tmp_path):
    """daydreamcontrol + whipsink + whepsrc: an EOS event ends the whole pipeline."""
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    key_file.chmod(0o600)
    gw = gateway_factory("--api-key-file", str(key_file))
    out = tmp_path / "ctl.mp4"
    pipe = Pipeline(
        f"daydreamcontrol name=ctl api-url={gw.url} api-key={KEY} prompt=plain delta=0.0 "
        f"{PATTERN} ! whipsink "
        f"whepsrc decode=false retry-interval=200 ! h264parse ! mp4mux ! filesink location={out}"
    )
    record_then_send_eos(pipe, out)
