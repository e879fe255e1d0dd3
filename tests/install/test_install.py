"""`meson install` into a temporary root: the installed binary finds its own plugin with no
GST_PLUGIN_PATH, from any directory; the installed plugin passes gst-inspect; the installed
daydreamrtc.pc builds a program against the public header.

Every step clears GST_PLUGIN_PATH (meson test sets it) and uses a fresh registry, so nothing
of the build tree or of a system-wide install can stand in for what was installed.
"""

import os
import pathlib
import select
import shutil
import signal
import subprocess

import pytest
import requests
from timescale import scaled

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("DRTC_BUILD_DIR", ROOT / "build")).resolve()
ELEMENTS = ("framebridgesrc", "whipsink", "whepsrc", "daydreamcontrol")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """The staging root of `meson install --destdir` (the configured prefix inside it)."""
    dest = tmp_path_factory.mktemp("destdir")
    out = subprocess.run(
        [shutil.which("meson"), "install", "-C", str(BUILD_DIR), "--no-rebuild"]
        + ["--destdir", str(dest)],
        capture_output=True,
        text=True,
        timeout=scaled(300),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    (dest / "install.log").write_text(out.stdout)
    return dest


def installed(root, name):
    found = sorted(p for p in root.rglob(name) if p.is_file())
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


@pytest.fixture
def clean_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GST_PLUGIN_PATH")}
    env.update({"GST_REGISTRY_1_0": str(tmp_path / "registry.bin"), "LC_ALL": "C.UTF-8"})
    env.pop("GST_REGISTRY", None)
    return env


def test_installed_binary_reports_the_installed_plugin(root, clean_env, tmp_path):
    binary = installed(root, "daydream-rtc")
    out = subprocess.run(
        [str(binary), "--version"], cwd=tmp_path, env=clean_env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    plugin = installed(root, "libgstdaydreamrtc.so")
    assert f"daydreamrtc plugin: {plugin}\n" in out.stdout


def test_installed_serve_runs_without_plugin_path(root, clean_env, tmp_path):
    binary = installed(root, "daydream-rtc")
    proc = subprocess.Popen(
        [str(binary), "serve", "--port", "0", "--settings-dir", str(tmp_path / "settings")],
        cwd=tmp_path,
        env=clean_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else ""
        assert "listening on " in line, line + (proc.stderr.read() if proc.poll() else "")
        url = line.split("listening on ")[1].split()[0]
        frame = bytes(16 * 16 * 3)
        r = requests.post(
            f"{url}/frames?width=16&height=16&format=RGB",
            data=frame,
            headers={"Content-Type": "application/octet-stream"},
            timeout=10,
        )
        assert r.status_code == 200, r.text  # framebridgesrc took it
        metrics = requests.get(f"{url}/metrics", timeout=5).text
        assert 'daydream_rtc_frames_in_total{stream="default"} 1\n' in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(scaled(30))
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0


def test_installed_plugin_inspects(root, clean_env):
    plugin = installed(root, "libgstdaydreamrtc.so")
    out = subprocess.run(
        ["gst-inspect-1.0", str(plugin)], env=clean_env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    for element in ELEMENTS:
        assert f"  {element}: " in out.stdout
    # outside GStreamer's own directory, the install says what other programs need
    system_dir = subprocess.run(
        ["pkg-config", "--variable=pluginsdir", "gstreamer-1.0"], capture_output=True, text=True
    ).stdout.strip()
    configured = "/" + str(plugin.parent.relative_to(root))
    if configured != system_dir:
        assert f"set GST_PLUGIN_PATH={configured}," in (root / "install.log").read_text()
    # which is the documented way: GST_PLUGIN_PATH=<prefix>/<libdir>/gstreamer-1.0
    env = {**clean_env, "GST_PLUGIN_PATH": str(plugin.parent)}
    for element in ELEMENTS:
        out = subprocess.run(["gst-inspect-1.0", element], env=env, capture_output=True)
        assert out.returncode == 0, element


def test_pkg_config_builds_against_the_public_header(root, clean_env, tmp_path):
    # the staged .pc names the configured prefix: point it into the staging root
    text = installed(root, "daydreamrtc.pc").read_text()
    prefix = next(x for x in text.splitlines() if x.startswith("prefix="))[len("prefix=") :]
    (tmp_path / "pkgconfig").mkdir()
    staged = f"prefix={root / prefix.lstrip('/')}"
    (tmp_path / "pkgconfig" / "daydreamrtc.pc").write_text(
        text.replace(f"prefix={prefix}", staged, 1)
    )
    env = {**clean_env, "PKG_CONFIG_PATH": str(tmp_path / "pkgconfig")}

    def pkg_config(*args):
        return subprocess.run(
            ["pkg-config", *args, "daydreamrtc"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()

    program = tmp_path / "push-frame"
    source = pathlib.Path(__file__).with_name("push-frame.c")
    flags = pkg_config("--cflags", "--libs")
    subprocess.run(["cc", "-o", str(program), str(source), *flags], check=True, timeout=scaled(120))
    plugins = pkg_config("--variable=pluginsdir")[0]
    assert pathlib.Path(plugins, "libgstdaydreamrtc.so").is_file()
    out = subprocess.run(
        [str(program)],
        env={**env, "GST_PLUGIN_PATH": plugins},
        capture_output=True,
        text=True,
        timeout=scaled(120),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "pushed 1, eos" in out.stdout
