"""Test 4 of issue 14: the server manager with the real `daydream-rtc serve` (spec §8 and its
re-implementation notes): start, busy port, crash and restart, stale and foreign state, missing
binary, exit (normal, SIGTERM, SIGKILL of ComfyUI), no key on a command line or in a log."""

import http.server
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading

import psutil
import pytest

import comfyui_loader as loader
from manager_fixture import BINARY, free_base, gone
from gateway_fixture import without_asan_preload
from timescale import scaled


def wait_for(predicate, timeout=30.0, what="condition"):
    import time

    deadline = time.monotonic() + scaled(timeout)
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def readlink(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def state_of(pack):
    return json.loads(pack.sub("manager").state_path().read_text())


def test_starts_serve_in_the_background_and_records_it(fresh_pack, caplog):
    base = free_base()
    pack = fresh_pack
    pack.sub("settings").save_settings(port=base)
    caplog.set_level("INFO", logger="daydream-rtc")
    status = pack.manager.ensure_running()
    assert status["running"] and status["port"] == base and status["pid"]
    state = state_of(pack)
    health = pack.sub("manager").healthz("127.0.0.1", base)
    assert health["service"] == "daydream-rtc" and health["pid"] == status["pid"]
    assert state["server_id"] == health["server_id"] and state["launcher_pid"] == os.getpid()
    assert stat.S_IMODE(pack.sub("manager").state_path().stat().st_mode) == 0o600
    url = pack.manager.base_url()
    assert url == f"http://127.0.0.1:{base}"
    assert pack.sub("api").client_for().status()["running"] is False
    log = (pack.sub("settings").settings_dir() / "api_server.log").read_text()
    assert "listening on" in log
    assert any(r.getMessage().startswith("[RTC] ") for r in caplog.records)


def test_busy_base_port_takes_the_next_one(fresh_pack):
    base = free_base()
    with __import__("socket").socket() as busy:
        busy.bind(("127.0.0.1", base))
        busy.listen()
        status = fresh_pack.manager.ensure_running(port=base)
        assert status["port"] == base + 1


def test_a_killed_child_is_restarted_and_the_nodes_recover(fresh_pack):
    fresh_pack.sub("settings").save_settings(port=free_base())
    first = fresh_pack.manager.ensure_running()["pid"]
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: fresh_pack.manager.status()["pid"] not in (None, first), 30, "a restart")
    status = fresh_pack.sub("api").client_for().status()  # the Status node's call
    assert status["running"] is False
    assert state_of(fresh_pack)["pid"] == fresh_pack.manager.status()["pid"]
    assert fresh_pack.manager.serve.restarts == 1
    # one log pump and one log file handle, however many launches there were
    pumps = [t for t in threading.enumerate() if t.name.startswith("rtc-log-")]
    assert len(pumps) == 1
    log_path = str(fresh_pack.manager.log_path())
    handles = [fd for fd in os.listdir("/proc/self/fd") if readlink(fd) == log_path]
    assert len(handles) == 1


def test_a_stale_state_file_leaves_another_program_alone(fresh_pack):
    other = subprocess.Popen(["sleep", "60"])
    try:
        base = free_base()
        fresh_pack.sub("settings").save_settings(port=base)
        stale = {"pid": other.pid, "host": "127.0.0.1", "port": base, "server_id": "gone"}
        fresh_pack.sub("manager").state_path().write_text(json.dumps(stale))
        status = fresh_pack.manager.ensure_running()
        assert other.poll() is None, "the manager signalled a process that is not its serve"
        assert status["pid"] != other.pid and state_of(fresh_pack)["pid"] == status["pid"]
    finally:
        other.kill()
        other.wait()


class ForeignHealthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"ok": True, "service": "daydream-rtc", "server_id": "someone-else"})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def test_a_foreign_server_on_the_port_is_not_adopted(fresh_pack):
    base = free_base()
    foreign = http.server.ThreadingHTTPServer(("127.0.0.1", base), ForeignHealthz)
    thread = threading.Thread(target=foreign.serve_forever, daemon=True)
    thread.start()
    try:
        fresh_pack.sub("settings").save_settings(port=base)
        state = {"pid": 1, "host": "127.0.0.1", "port": base, "server_id": "ours-from-before"}
        fresh_pack.sub("manager").state_path().write_text(json.dumps(state))
        status = fresh_pack.manager.ensure_running()
        assert status["pid"] is not None and status["port"] == base + 1
        assert fresh_pack.manager.adopted is None
    finally:
        foreign.shutdown()
        foreign.server_close()


def test_our_own_server_is_adopted_by_identity(fresh_pack, tmp_path):
    fresh_pack.sub("settings").save_settings(port=free_base())
    status = fresh_pack.manager.ensure_running()
    manager_module = fresh_pack.sub("manager")
    second = manager_module.ServerManager()  # a ComfyUI started again, same settings
    second.hooks_installed = True
    adopted = second.ensure_running()
    assert adopted["running"] and adopted["port"] == status["port"] and adopted["pid"] is None
    assert second.stop() is True  # forgotten, not killed
    assert not gone(status["pid"])


def test_missing_binary_says_what_to_run(fresh_pack, monkeypatch, tmp_path):
    manager_module = fresh_pack.sub("manager")
    monkeypatch.setenv("DAYDREAM_RTC_BINARY", str(tmp_path / "nope"))
    with pytest.raises(manager_module.ManagerError, match="does not exist"):
        fresh_pack.manager.ensure_running()
    monkeypatch.delenv("DAYDREAM_RTC_BINARY")
    monkeypatch.setattr(manager_module, "REPO", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(manager_module.ManagerError, match="not built. Run: .*scripts/build"):
        fresh_pack.manager.ensure_running()


def test_missing_credentials_are_the_spec_error(fresh_pack, monkeypatch):
    monkeypatch.delenv("DAYDREAM_API_KEY")
    with pytest.raises(
        fresh_pack.sub("manager").ManagerError, match="Daydream credentials missing"
    ):
        fresh_pack.manager.ensure_running()


def test_an_unknown_queue_mode_is_a_manager_error(fresh_pack):
    fresh_pack.sub("settings").save_settings(queue_mode="fastest")
    with pytest.raises(fresh_pack.sub("manager").ManagerError, match="queue_mode must be one of"):
        fresh_pack.manager.ensure_running()
    assert fresh_pack.manager.serve is None


def test_the_key_is_on_no_command_line_and_in_no_log(fresh_pack, monkeypatch, caplog):
    key = "dd-secret-9d3a77e1"
    monkeypatch.setenv("DAYDREAM_API_KEY", key)
    caplog.set_level("DEBUG")
    fresh_pack.sub("settings").save_settings(port=free_base())
    pid = fresh_pack.manager.ensure_running()["pid"]
    child = psutil.Process(pid)
    assert key not in " ".join(child.cmdline())
    assert "DAYDREAM_API_KEY" not in child.environ()
    ps = subprocess.run(
        ["ps", "-eo", "args"],
        capture_output=True,
        text=True,
        env=without_asan_preload(),
        timeout=scaled(30),
    ).stdout
    assert key not in ps
    key_file = fresh_pack.sub("manager").serve_key_path()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    fresh_pack.manager.stop()
    assert not key_file.exists()
    for path in fresh_pack.sub("settings").settings_dir().rglob("*"):
        if path.is_file():
            assert key not in path.read_text(errors="replace"), path
    assert key not in caplog.text


EXIT_PROBE = textwrap.dedent(
    """
    import json, os, signal, sys
    sys.path.insert(0, {tests!r})
    import comfyui_loader as loader
    loader.use_standins()
    pack = loader.load_custom_node({folder!r})
    manager = sys.modules[pack.__name__ + ".manager"].MANAGER
    status = manager.ensure_running(port={port})
    print(json.dumps(status), flush=True)
    how = {how!r}
    if how == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
    elif how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.exit(0)
    """
)


@pytest.mark.parametrize("how", ["exit", "sigterm", "sigkill"])
def test_the_child_never_outlives_comfyui(tmp_path, how):
    folder = loader.install_as(tmp_path / "custom_nodes", "rtc-node")
    script = EXIT_PROBE.format(
        tests=str(loader.STANDINS.parent), folder=str(folder), port=free_base(), how=how
    )
    env = dict(
        os.environ,
        DAYDREAM_RTC_SETTINGS_DIR=str(tmp_path / "settings"),
        DAYDREAM_RTC_BINARY=str(BINARY),
        DAYDREAM_API_KEY="k",
    )
    env.pop("DAYDREAM_RTC_SERVER_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=scaled(60)
    )
    expected = {"exit": 0, "sigterm": -signal.SIGTERM, "sigkill": -signal.SIGKILL}[how]
    assert out.returncode == expected, out.stderr
    pid = json.loads(out.stdout.splitlines()[0])["pid"]
    wait_for(lambda: gone(pid), 15, f"serve (pid {pid}) to end after ComfyUI's {how}")
    state = tmp_path / "settings" / "local_api_server_state.json"
    if how != "sigkill":  # a SIGKILLed ComfyUI cannot clean up; the next start checks identity
        assert not state.exists()


def test_a_binary_that_will_not_run_is_an_error_not_a_hang(fresh_pack, monkeypatch, tmp_path):
    fake = tmp_path / "daydream-rtc"
    fake.write_bytes(b"\x7fELF-not-really")
    fake.chmod(0o755)
    monkeypatch.setenv("DAYDREAM_RTC_BINARY", str(fake))
    fresh_pack.sub("settings").save_settings(port=free_base())
    with pytest.raises(fresh_pack.sub("manager").ManagerError, match="Exec format error"):
        fresh_pack.manager.ensure_running()


def serve_by_hand(port, tmp_path):
    env = dict(os.environ, GST_PLUGIN_PATH_1_0=str(BINARY.parent.parent / "gst"))
    proc = subprocess.Popen(
        [str(BINARY), "serve", "--port", str(port), "--settings-dir", str(tmp_path / "hand")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert b"listening on" in proc.stdout.readline()
    return proc


def test_an_orphaned_serve_that_hangs_is_stopped(fresh_pack, tmp_path):
    orphan_port = free_base()
    orphan = serve_by_hand(orphan_port, tmp_path)
    try:
        os.kill(orphan.pid, signal.SIGSTOP)  # alive, our binary, not answering
        state = {"pid": orphan.pid, "host": "127.0.0.1", "port": orphan_port, "server_id": "x"}
        fresh_pack.sub("manager").state_path().write_text(json.dumps(state))
        fresh_pack.manager.ensure_running(port=free_base())
        os.kill(orphan.pid, signal.SIGCONT)  # the SIGTERM it was sent now takes effect
        assert orphan.wait(scaled(20)) in (0, -signal.SIGTERM)
    finally:
        orphan.kill()
        orphan.wait()
        orphan.stdout.close()


def test_a_healthy_serve_of_someone_else_is_kept(fresh_pack, tmp_path):
    other_port = free_base()
    other = serve_by_hand(other_port, tmp_path)
    try:
        state = {"pid": other.pid, "host": "127.0.0.1", "port": other_port, "server_id": "old"}
        fresh_pack.sub("manager").state_path().write_text(json.dumps(state))
        status = fresh_pack.manager.ensure_running(port=free_base())
        assert status["pid"] != other.pid and fresh_pack.manager.adopted is None
        assert other.poll() is None, "a healthy serve that is not ours was signalled"
    finally:
        other.terminate()
        other.wait()
        other.stdout.close()
