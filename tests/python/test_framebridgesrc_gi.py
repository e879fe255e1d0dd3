"""framebridgesrc used from Python through gi, as applications will use it."""

import threading

import pytest
from timescale import scaled

OK, FULL, INVALID, FLUSHING = 0, 1, 2, 3


def rgb_frame(width, height, rgb):
    """A tightly packed RGB frame (numpy/PIL layout): rows of width * 3 bytes."""
    return bytes(rgb) * (width * height)


@pytest.fixture
def pipeline(gst):
    from gi.repository import Gst

    pipe = Gst.parse_launch(
        "framebridgesrc name=src queue-mode=latest framerate=60/1 ! "
        "videoconvert ! video/x-raw,format=RGB ! "
        "appsink name=sink sync=false max-buffers=4 drop=true"
    )
    yield pipe
    pipe.set_state(Gst.State.NULL)


def push(src, fmt, width, height, data, timeout_us=0):
    from gi.repository import GLib

    return int(src.emit("push-frame", fmt, width, height, GLib.Bytes.new(data), timeout_us))


def pull_until(sink, predicate, attempts=120):
    """Pull samples until one satisfies predicate; fail after `attempts`."""
    from gi.repository import Gst

    for _ in range(attempts):
        sample = sink.try_pull_sample(Gst.SECOND)
        assert sample is not None, "no buffer within a second"
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        assert ok
        try:
            data = bytes(info.data)
        finally:
            buf.unmap(info)
        caps = sample.get_caps().get_structure(0)
        if predicate(data, caps):
            return data, caps
    pytest.fail("expected frame never arrived")


def test_pushed_frame_arrives_with_its_colour(pipeline, gst):
    src = pipeline.get_by_name("src")
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(gst.State.PLAYING)

    # 34 px wide: rows of 102 bytes, where GStreamer pads RGB rows to 104
    assert push(src, "RGB", 34, 20, rgb_frame(34, 20, (200, 40, 10))) == OK
    data, caps = pull_until(
        sink, lambda d, c: c.get_value("width") == 34 and d[:3] == bytes((200, 40, 10))
    )
    assert caps.get_value("height") == 20
    stride = 104
    assert data[stride * 19 + 33 * 3 : stride * 19 + 34 * 3] == bytes((200, 40, 10))


def test_bad_frames_are_rejected_not_crashing(pipeline, gst):
    src = pipeline.get_by_name("src")
    pipeline.set_state(gst.State.PLAYING)

    assert push(src, "RGB", 64, 64, b"\x00" * 100) == INVALID
    assert push(src, "YUY2", 64, 64, b"\x00" * (64 * 64 * 2)) == INVALID
    assert push(src, "RGB", 0, 64, b"") == INVALID
    assert push(src, "RGB", 64, 64, b"") == INVALID  # an empty GBytes has no data pointer
    stats = src.get_property("stats")
    assert stats.get_value("rejected") == 4
    assert stats.get_value("pushed") == 0


def test_stats_count_pushes_and_repeats(pipeline, gst):
    src = pipeline.get_by_name("src")
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(gst.State.PLAYING)

    assert push(src, "RGBA", 8, 8, bytes((1, 2, 3, 255)) * 64) == OK
    pull_until(sink, lambda d, c: d[:3] == bytes((1, 2, 3)))
    pull_until(sink, lambda d, c: src.get_property("stats").get_value("repeated") >= 2)
    stats = src.get_property("stats")
    assert stats.get_value("pushed") == 1
    assert stats.get_value("live") == 1


def test_backpressure_push_blocks_with_timeout_from_python(gst):
    from gi.repository import Gst

    src = Gst.ElementFactory.make("framebridgesrc", None)
    src.set_property("max-frames", 2)
    pipe = Gst.Pipeline.new()
    sink = Gst.ElementFactory.make("fakesink", None)
    pipe.add(src)
    pipe.add(sink)
    src.link(sink)
    pipe.set_state(Gst.State.PAUSED)  # started, but a live source sends nothing yet
    try:
        frame = rgb_frame(4, 4, (9, 9, 9))
        assert push(src, "RGB", 4, 4, frame) == OK
        assert push(src, "RGB", 4, 4, frame) == OK
        assert push(src, "RGB", 4, 4, frame) == FULL
        # a push waiting for room is released by PLAYING (the source consumes)
        result = {}
        waiter = threading.Thread(
            target=lambda: result.setdefault("r", push(src, "RGB", 4, 4, frame, -1))
        )
        waiter.start()
        pipe.set_state(Gst.State.PLAYING)
        waiter.join(scaled(10))
        assert not waiter.is_alive()
        assert result["r"] == OK
    finally:
        pipe.set_state(Gst.State.NULL)
