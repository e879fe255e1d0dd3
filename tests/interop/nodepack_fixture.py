"""The node pack loaded as ComfyUI loads it (tests/python's loader and stand-ins), pointed at a
real serve + gateway pair started for the test."""

import os
import pathlib
import sys
import uuid

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

import comfyui_loader as loader  # noqa: E402
import core_standins  # noqa: E402
from manager_fixture import fresh_pack  # noqa: E402,F401  (a fixture, re-exported)


class Pack:
    def __init__(self, module, serve):
        self.module = module
        self.serve = serve
        self.classes = core_standins.classes_with_core(module.NODE_CLASS_MAPPINGS)

    def sub(self, name):
        return sys.modules[f"{self.module.__name__}.{name}"]

    def requests_logged(self, line):
        return self.serve.log_text().count(line)


@pytest.fixture
def pack_on_serve(gateway_factory, serve_factory, tmp_path, monkeypatch):
    """(Pack, gateway); serve runs with -vv (every request logged) and lossless frames."""
    gw = gateway_factory()
    serve = serve_factory(
        "-vv",
        "--queue-mode",
        "backpressure",
        env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": "any-key"},
    )
    monkeypatch.setenv("DAYDREAM_RTC_SERVER_URL", serve.url)
    monkeypatch.setenv("DAYDREAM_RTC_SETTINGS_DIR", str(tmp_path / "settings"))
    prompt_server = loader.use_standins()
    prompt_server.sent.clear()
    folder = loader.install_as(tmp_path / "custom_nodes", f"pack-{uuid.uuid4().hex[:8]}")
    module = loader.load_custom_node(folder)
    yield Pack(module, serve), gw
    for name in [n for n in sys.modules if n.startswith(module.__name__)]:
        del sys.modules[name]
    os.environ.pop("DAYDREAM_RTC_SERVER_URL", None)
