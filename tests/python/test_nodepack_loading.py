"""Test 1 of issue 14: the pack loads the way ComfyUI loads it, under any folder name and from
the repository root; the import starts, listens and connects nothing; every node's INPUT_TYPES is
well formed and the registry is exactly spec §9.1."""

import json
import math
import os
import subprocess
import sys
import textwrap

import pytest

import comfyui_loader as loader
from timescale import scaled

TABLE = {  # spec §9.1: display name, category, output node
    "RTCStreamFrameInput": ("RTC Stream Frame Input", "RTC Stream", True),
    "RTCStreamFrameOutput": ("RTC Stream Frame Output", "RTC Stream", True),
    "StartRTCStream": ("Start RTC Stream", "RTC Stream", True),
    "UpdateRTCStream": ("Update RTC Stream", "RTC Stream", True),
    "RTCStreamStatus": ("RTC Stream Status", "RTC Stream", False),
    "RTCStreamPipelineConfig": ("Daydream Pipeline Config", "Daydream Live/Config", False),
    "RTCStreamControlNet": ("Daydream ControlNet", "Daydream Live/ControlNet", False),
    "RTCStreamUIPreview": ("RTC Stream UI", "RTC Stream", False),
}
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN"}
SOCKET_TYPES = {"IMAGE", "PIPELINE_CONFIG", "CONTROLNET_CONFIG"}

# Runs in a fresh interpreter: loads the pack, then reports what the process holds.
PROBE = textwrap.dedent(
    """
    import json, os, sys, threading
    sys.path.insert(0, {tests!r})
    import comfyui_loader as loader
    loader.use_standins()
    def sockets():
        n = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                n += os.readlink(f"/proc/self/fd/{{fd}}").startswith("socket:")
            except OSError:
                pass
        return n
    before = (sockets(), threading.active_count())
    module = loader.load_custom_node({folder!r})
    children = []
    for tid in os.listdir("/proc/self/task"):
        children += open(f"/proc/self/task/{{tid}}/children").read().split()
    import server
    app = server.PromptServer.instance.app
    print(json.dumps({{
        "nodes": sorted(module.NODE_CLASS_MAPPINGS),
        "web": module.WEB_DIRECTORY,
        "sockets": [before[0], sockets()],
        "threads": [before[1], threading.active_count()],
        "children": children,
        "routes": sorted(r.path for r in server.PromptServer.instance.routes),
        "startup_hooks": len(app.on_startup),
    }}))
    """
)


def load_in_fresh_process(folder, tmp_path):
    env = dict(os.environ, DAYDREAM_RTC_SETTINGS_DIR=str(tmp_path / "settings"))
    env.pop("DAYDREAM_RTC_SERVER_URL", None)
    script = PROBE.format(tests=str(loader.STANDINS.parent), folder=str(folder))
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=scaled(60)
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["daydream-rtc", "rtc-node", "my.pack"])
def test_loads_as_comfyui_does_and_starts_nothing(tmp_path, name):
    folder = loader.install_as(tmp_path / "custom_nodes", name)
    report = load_in_fresh_process(folder, tmp_path)
    assert report["nodes"] == sorted(TABLE)
    assert os.path.isdir(os.path.join(folder, report["web"]))
    assert report["children"] == [], "the import spawned a process"
    assert report["sockets"][1] == report["sockets"][0], "the import opened a socket"
    assert report["threads"][1] == report["threads"][0], "the import started a thread"
    # GET, POST; the browser's relay to serve (relay.py): GET, POST, PATCH
    assert report["routes"] == sorted(
        ["/rtc/control", "/rtc/credentials"] * 2 + ["/rtc/api/{path:.*}"] * 3
    )
    assert report["startup_hooks"] >= 1  # the manager starts with ComfyUI's web server


def test_repository_root_is_a_custom_node_folder(tmp_path):
    folder = loader.install_as(tmp_path / "custom_nodes", "daydream-rtc", loader.ROOT)
    report = load_in_fresh_process(folder, tmp_path)
    assert report["nodes"] == sorted(TABLE)
    assert os.path.isdir(os.path.join(folder, report["web"]))
    assert report["children"] == [] and report["sockets"][1] == report["sockets"][0]


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    loader.use_standins()
    return loader.load_custom_node(
        loader.install_as(tmp_path_factory.mktemp("custom_nodes"), "rtc-node")
    )


def test_registry_is_spec_9_1(pack):
    for key, (display, category, output) in TABLE.items():
        cls = pack.NODE_CLASS_MAPPINGS[key]
        assert pack.NODE_DISPLAY_NAME_MAPPINGS[key] == display
        assert cls.CATEGORY == category
        assert bool(getattr(cls, "OUTPUT_NODE", False)) is output, key
        assert callable(getattr(cls, cls.FUNCTION))
        names = getattr(cls, "RETURN_NAMES", cls.RETURN_TYPES)
        assert len(names) == len(cls.RETURN_TYPES)


def check_spec(name, spec):
    kind = spec[0]
    opts = spec[1] if len(spec) > 1 else {}
    assert isinstance(opts, dict), name
    if isinstance(kind, list):
        assert kind and opts.get("default", kind[0]) in kind, name
        return
    assert kind in WIDGET_TYPES | SOCKET_TYPES, (name, kind)
    if kind in ("INT", "FLOAT"):
        low, high = opts.get("min", -math.inf), opts.get("max", math.inf)
        assert low <= opts["default"] <= high, name
        assert opts.get("step", 1) > 0, name
        assert isinstance(opts["default"], int if kind == "INT" else (int, float)), name
    elif kind == "BOOLEAN":
        assert isinstance(opts["default"], bool), name
    elif kind == "STRING":
        assert isinstance(opts["default"], str), name


def test_every_input_types_is_well_formed(pack):
    for key, cls in pack.NODE_CLASS_MAPPINGS.items():
        types = cls.INPUT_TYPES()
        assert set(types) <= {"required", "optional", "hidden"}, key
        for section in ("required", "optional"):
            for name, spec in types.get(section, {}).items():
                check_spec(f"{key}.{name}", spec)
        json.dumps(types)  # the /object_info answer is JSON
