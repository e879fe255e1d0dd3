"""Helpers for the server-manager tests: a fresh copy of the pack per test (its own MANAGER),
ports nobody uses, the serve binary of this build."""

import os
import pathlib
import socket
import sys
import uuid

import psutil
import pytest

import comfyui_loader as loader

BUILD = pathlib.Path(os.environ.get("DRTC_BUILD_DIR", loader.ROOT / "build")).resolve()
BINARY = BUILD / "app" / "daydream-rtc"


def free_base(span=8):
    """A base port with `span` free ports above it (none listening)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + span < 65000 and all(port_free(base + i) for i in range(span)):
            return base
    raise RuntimeError("no free port range")


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class Loaded:
    def __init__(self, module):
        self.module = module

    def sub(self, name):
        return sys.modules[f"{self.module.__name__}.{name}"]

    @property
    def manager(self):
        return self.sub("manager").MANAGER


@pytest.fixture
def fresh_pack(tmp_path, monkeypatch):
    """The pack with its own settings folder and manager (exit hooks left to the exit tests)."""
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is not built (scripts/build)")
    monkeypatch.setenv("DAYDREAM_RTC_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("DAYDREAM_RTC_BINARY", str(BINARY))
    monkeypatch.delenv("DAYDREAM_RTC_SERVER_URL", raising=False)
    monkeypatch.setenv("DAYDREAM_API_KEY", "test-key-not-secret")
    monkeypatch.delenv("DAYDREAM_API_URL", raising=False)
    prompt_server = loader.use_standins(fresh=True)
    folder = loader.install_as(tmp_path / "custom_nodes", f"pack-{uuid.uuid4().hex[:8]}")
    pack = Loaded(loader.load_custom_node(folder))
    pack.prompt_server = prompt_server
    pack.manager.hooks_installed = True  # no atexit/SIGTERM hooks inside pytest itself
    yield pack
    pack.manager.stop()
    for name in [n for n in sys.modules if n.startswith(pack.module.__name__)]:
        del sys.modules[name]
