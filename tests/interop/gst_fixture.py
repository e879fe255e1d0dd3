"""GStreamer from Python for the element tests: the freshly built plugin, pipelines, bus waits."""

import os
import time

import pytest

from gateway_fixture import BUILD_DIR
from timescale import scaled

os.environ["GST_PLUGIN_PATH_1_0"] = str(BUILD_DIR / "gst")
os.environ.setdefault("GST_REGISTRY_1_0", str(BUILD_DIR / "tests" / "registry-interop.bin"))

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

Gst.init(None)


class Pipeline:
    """A parsed pipeline that records its bus messages; stop() always brings it to NULL."""

    def __init__(self, description):
        self.pipeline = Gst.parse_launch(description)
        self.bus = self.pipeline.get_bus()
        self.messages = []

    def by_name(self, name):
        return self.pipeline.get_by_name(name)

    def play(self):
        ret = self.pipeline.set_state(Gst.State.PLAYING)
        assert ret != Gst.StateChangeReturn.FAILURE, self.errors()

    def poll(self, timeout=0.0):
        """Move bus messages into self.messages; wait up to timeout for the first one."""
        msg = self.bus.timed_pop(int(timeout * Gst.SECOND))
        while msg is not None:
            self.messages.append(msg)
            msg = self.bus.pop()

    def errors(self):
        self.poll()
        return [m.parse_error() for m in self.messages if m.type == Gst.MessageType.ERROR]

    def warnings(self):
        self.poll()
        return [m.parse_warning() for m in self.messages if m.type == Gst.MessageType.WARNING]

    def element_messages(self, name):
        self.poll()
        return [
            m.get_structure()
            for m in self.messages
            if m.type == Gst.MessageType.ELEMENT and m.get_structure().get_name() == name
        ]

    def wait_for(self, predicate, timeout=15.0, what="condition"):
        """Poll the bus until predicate(self) is truthy; fail with the errors seen. The
        timeout is scaled (timescale)."""
        deadline = time.monotonic() + scaled(timeout)
        while True:
            self.poll(0.05)
            value = predicate(self)
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; errors: {self.errors()}")

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)


def states(pipe, message="whip-state"):
    return [s.get_string("state") for s in pipe.element_messages(message)]


def solid(rgb, width=320, height=240, fps=30):
    """A live source of one colour (videotestsrc solid-color)."""
    argb = 0xFF000000 | (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]
    return (
        f"videotestsrc is-live=true pattern=solid-color foreground-color={argb} ! "
        f"video/x-raw,width={width},height={height},framerate={fps}/1"
    )
