"""Shared set-up for the Python tests: find the build tree and its plugin.

Run with Debian's interpreter (/usr/bin/python3 -m pytest tests/python); the
build directory defaults to ./build and can be given as DRTC_BUILD_DIR.
"""

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("DRTC_BUILD_DIR", ROOT / "build")).resolve()
PLUGIN_DIR = BUILD_DIR / "gst"

# GStreamer reads these once, at Gst.init: set them before any test imports gi.
os.environ["GST_PLUGIN_PATH_1_0"] = str(PLUGIN_DIR)
os.environ.setdefault("GST_REGISTRY_1_0", str(BUILD_DIR / "tests" / "registry-python.bin"))


@pytest.fixture(scope="session")
def gst():
    """Gst, initialised, with the freshly built daydreamrtc plugin loadable."""
    if not (PLUGIN_DIR / "libgstdaydreamrtc.so").exists():
        pytest.fail(f"plugin not built: {PLUGIN_DIR} (run meson compile first)")
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstApp", "1.0")
    from gi.repository import Gst, GstApp  # noqa: F401  (GstApp: appsink methods)

    Gst.init(None)
    if Gst.ElementFactory.find("framebridgesrc") is None:
        pytest.fail("framebridgesrc is not registered from " + str(PLUGIN_DIR))
    return Gst


from manager_fixture import fresh_pack  # noqa: E402,F401  (a fixture of the manager tests)
