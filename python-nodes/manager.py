"""The server manager (spec §8, re-implementation notes): runs `daydream-rtc serve` (and, offline,
`daydream-rtc gateway`) for ComfyUI in the background, adopts a running serve only when its
/healthz identity matches the state file, and stops what it started when ComfyUI exits."""

import atexit
import json
import logging
import os
import pathlib
import shutil
import signal
import socket
import threading
import time

from . import client, settings
from .process import Child
from .supervisor import LaunchError, Supervisor

log = logging.getLogger("daydream-rtc")

PORT_SPAN = 8  # base ... base+7
READY_TIMEOUT = 30.0
NODE_WAIT = 30.0  # how long a node waits for a server that is starting
REPO = pathlib.Path(__file__).resolve().parents[1]
CREDENTIALS_MISSING = (
    "Daydream credentials missing. Set DAYDREAM_API_KEY (and optional DAYDREAM_API_URL) in your "
    "environment or .env file before starting the RTC server."
)


class ManagerError(RuntimeError):
    """The server cannot run; the message says what to do."""


def find_binary():
    configured = settings.load_settings().get("binary") or os.environ.get("DAYDREAM_RTC_BINARY")
    if configured:
        path = pathlib.Path(configured).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ManagerError(f"the daydream-rtc binary {path} does not exist or cannot run")
        return path
    built = REPO / "build" / "app" / "daydream-rtc"
    if built.is_file():
        return built
    installed = shutil.which("daydream-rtc")
    if installed:
        return pathlib.Path(installed)
    raise ManagerError(
        f"daydream-rtc is not built. Run: {REPO / 'scripts' / 'build'} "
        "(or set DAYDREAM_RTC_BINARY to an installed daydream-rtc)"
    )


def child_env(binary):
    env = dict(os.environ)
    env.pop("DAYDREAM_API_KEY", None)  # serve reads the key from its 0600 file instead
    plugins = REPO / "build" / "gst"
    if binary.is_relative_to(REPO) and plugins.is_dir():
        env["GST_PLUGIN_PATH_1_0"] = os.pathsep.join(
            p for p in (str(plugins), env.get("GST_PLUGIN_PATH_1_0", "")) if p
        )
    return env


def port_in_use(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def healthz(host, port):
    try:
        return client.RtcClient(f"http://{host}:{port}").healthz()
    except (client.RtcApiError, ValueError):
        return None


def is_our_serve(pid):
    """Whether /proc says `pid` runs daydream-rtc serve (pids are reused: never trust a number)."""
    try:
        argv = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return os.path.basename(argv[0]) == b"daydream-rtc" and argv[1:2] == [b"serve"]


def state_path():
    return settings.settings_dir() / "local_api_server_state.json"


def serve_key_path():
    return settings.settings_dir() / "serve.key"


class ServerManager:
    def __init__(self):
        self.lock = threading.RLock()
        self.serve = None  # Supervisor of our own serve
        self.gateway = None  # Supervisor of the local gateway (offline mode)
        self.gateway_url = ""
        self.adopted = None  # {"host", "port", "server_id"} of a serve we did not start
        self.server_id = ""  # /healthz server_id of the serve we launched last
        self.host = None
        self.port = None
        self.last_error = ""
        self.hooks_installed = False

    # ---- what runs
    def status(self):
        with self.lock:
            pid = self.serve.pid() if self.serve else None
            running = pid is not None or self.adopted is not None
            return {
                "running": running,
                "host": self.host if running else None,
                "port": self.port if running else None,
                "pid": pid,
                "type": "local",
                "offline": self.gateway is not None,
                "error": self.last_error,
            }

    def identity(self):
        """The server_id of the serve that runs now, "" while none does. A restarted serve has a
        new one (and none of the old one's streams): the Start node keys its cache on it."""
        with self.lock:
            if self.adopted is not None:
                return self.adopted["server_id"]
            if self.serve is not None and self.serve.pid() is not None:
                return self.server_id
            return ""

    def url(self):
        return f"http://{self.host}:{self.port}" if self.host else ""

    def starting(self):
        return self.serve is not None and not self.serve.ready.is_set()

    # ---- start
    def ensure_running(self, host=None, port=None, wait=True):
        """Starts (or adopts) serve; with `wait`, returns once it answers, else raises."""
        with self.lock:
            if not self._alive():
                self._adopt_or_launch(host, port)
            serve = self.serve
        if wait and serve is not None:
            serve.ready.wait(READY_TIMEOUT * PORT_SPAN)
            if serve.error:
                raise ManagerError(serve.error)
        return self.status()

    def _alive(self):
        if self.serve is not None and self.serve.is_alive():
            return True
        if self.adopted is not None:
            if (healthz(self.host, self.port) or {}).get("server_id") == self.adopted["server_id"]:
                return True
            self.adopted = None
        return False

    def _adopt_or_launch(self, host, port):
        self.serve = None
        state = settings.read_json(state_path())
        health = self._recorded_health(state)
        if self._adopt(state, health):
            return
        self._clean_orphan(state, health)
        stored = settings.load_settings()
        host = host or stored["host"]
        base = int(port or stored["port"])
        binary = find_binary()
        queue_mode = stored["queue_mode"]
        if queue_mode not in settings.QUEUE_MODES:
            raise ManagerError(f"settings.json: queue_mode must be one of {settings.QUEUE_MODES}")
        api_url, key = self._credentials()
        self.install_exit_hooks()
        self.last_error = ""
        if settings.offline(api_url):
            api_url = self._start_gateway(binary)
        self.host = host
        self.serve = Supervisor(
            "serve", self._serve_launcher(binary, host, base, api_url, queue_mode), self.log_path()
        )
        self.serve.start()

    @staticmethod
    def _recorded_health(state):
        """/healthz of the server the state file names, or None."""
        if not isinstance(state.get("port"), int):
            return None
        health = healthz(state.get("host", "127.0.0.1"), state["port"])
        return health if health and health.get("service") == "daydream-rtc" else None

    def _adopt(self, state, health):
        if not health or not state.get("server_id"):
            return False
        host, port = state.get("host", "127.0.0.1"), state["port"]
        if health.get("server_id") != state["server_id"]:
            log.warning("not adopting the server on %s:%s: it is not the one recorded", host, port)
            return False
        self.adopted = {"host": host, "port": port, "server_id": state["server_id"]}
        self.host, self.port = host, port
        log.info("adopted the running daydream-rtc serve on %s:%s", host, port)
        return True

    def _clean_orphan(self, state, health):
        """SIGTERM to the recorded pid only when /proc says it is daydream-rtc serve and it does
        not answer as a healthy server (a serve of someone else's that got the pid is kept)."""
        pid = state.get("pid")
        answering = health is not None and health.get("pid") == pid
        if isinstance(pid, int) and pid > 0 and not answering and is_our_serve(pid):
            log.info("stopping the orphaned daydream-rtc serve (pid %s)", pid)
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        if state_path().exists():
            state_path().unlink()

    def _credentials(self):
        api_url, key, _sources = settings.credentials()
        if settings.offline(api_url):
            key = key or "local"
        elif not key:
            raise ManagerError(CREDENTIALS_MISSING)
        settings.write_atomic(serve_key_path(), key + "\n")
        return api_url, key

    def refresh_key(self):
        """Rewrites serve's key file after a credentials change: serve reads it at each /start."""
        with self.lock:
            if self.serve is not None and serve_key_path().exists():
                api_url, key, _ = settings.credentials()
                if key or settings.offline(api_url):
                    settings.write_atomic(serve_key_path(), (key or "local") + "\n")

    def log_path(self):
        return settings.settings_dir() / "api_server.log"

    # ---- the children
    def _serve_launcher(self, binary, host, base, api_url, queue_mode):
        env = child_env(binary)

        def argv(port):
            return [
                str(binary),
                "serve",
                "--host",
                host,
                "--port",
                str(port),
                "--settings-dir",
                str(settings.settings_dir() / "serve"),
                "--api-url",
                api_url,
                "--api-key-file",
                str(serve_key_path()),
                "--queue-mode",
                queue_mode,
            ]

        def launch(log_file, first):
            ports = range(base, base + PORT_SPAN) if first else [self.port]
            for port in ports:
                if port_in_use(host, port):
                    log.info("port %s is in use, trying the next one", port)
                    continue
                child = Child(argv(port), env, log_file)
                health = wait_ready(child, host, port)
                if health is not None:
                    self._ready(child, host, port, health, base)
                    return child
                child.stop()
            message = f"Unable to find available port for local API server ({base}-{ports[-1]})"
            self.last_error = message
            raise LaunchError(message)

        return launch

    def _ready(self, child, host, port, health, base):
        with self.lock:
            self.port, self.server_id = port, health.get("server_id", "")
        if port != base:
            log.warning("daydream-rtc serve runs on port %s (%s was busy)", port, base)
        state = {
            "pid": child.pid,
            "host": host,
            "port": port,
            "launcher_pid": os.getpid(),
            "server_id": health.get("server_id", ""),
        }
        settings.write_atomic(state_path(), json.dumps(state) + "\n")

    def _start_gateway(self, binary):
        found = threading.Event()

        def on_line(line):
            if "listening on " in line:
                self.gateway_url = line.split("listening on ")[1].split()[0]
                found.set()

        def launch(log_file, first):
            port = "0" if first else self.gateway_url.rsplit(":", 1)[1]
            found.clear()
            child = Child(
                [str(binary), "gateway", "--port", port], child_env(binary), log_file, on_line
            )
            if found.wait(15) and child.alive():
                return child
            child.stop()
            raise LaunchError("the local gateway (daydream-rtc gateway) did not start")

        self.gateway = Supervisor("gateway", launch, self.log_path())
        self.gateway.start()
        self.gateway.ready.wait(20)
        if self.gateway.error or not self.gateway_url:
            raise ManagerError(self.gateway.error or "the local gateway did not start")
        return self.gateway_url

    # ---- stop
    def stop(self):
        """Stops what this process started (True), forgets an adopted server (True), else False."""
        with self.lock:
            serve, gateway, adopted = self.serve, self.gateway, self.adopted
            self.serve = self.gateway = self.adopted = None
            self.host = self.port = None
        if serve is not None:
            serve.stop()
            for path in (state_path(), serve_key_path()):
                if path.exists():
                    path.unlink()
        if gateway is not None:
            gateway.stop()
        return serve is not None or adopted is not None

    def restart(self, host=None, port=None):
        self.stop()
        return self.ensure_running(host, port)

    def start_background(self):
        """The start at ComfyUI's start: never blocks it; errors are logged. Nothing to start
        when DAYDREAM_RTC_SERVER_URL names a serve of the user's own."""
        if os.environ.get("DAYDREAM_RTC_SERVER_URL"):
            return

        def run():
            try:
                self.ensure_running()
            except (ManagerError, OSError) as exc:
                self.last_error = str(exc)
                log.warning("daydream-rtc serve not started: %s", exc)

        threading.Thread(target=run, name="rtc-autostart", daemon=True).start()

    # ---- for the nodes
    def base_url(self, timeout=NODE_WAIT):
        """The URL of a running serve; waits for one that is starting, starts one if none."""
        explicit = os.environ.get("DAYDREAM_RTC_SERVER_URL")
        if explicit:
            return explicit.rstrip("/")
        try:
            self.ensure_running(wait=False)
        except ManagerError as exc:
            raise client.ServerUnavailable(str(exc)) from None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                serve = self.serve
                if self.adopted is not None or (serve and serve.ready.is_set() and serve.pid()):
                    return self.url()
            if serve is not None and serve.error:
                raise client.ServerUnavailable(serve.error)
            time.sleep(0.1)
        raise client.ServerUnavailable("daydream-rtc serve is not running (see api_server.log)")

    def install_exit_hooks(self):
        """At exit and on SIGTERM: stop the children and remove the state file."""
        if self.hooks_installed:
            return
        self.hooks_installed = True
        atexit.register(self.stop)
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)

        if previous == signal.SIG_IGN:  # ComfyUI chose to ignore SIGTERM: leave it so
            return

        def on_sigterm(signum, frame):
            self.stop()
            if callable(previous):
                previous(signum, frame)
            else:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)


def wait_ready(child, host, port, timeout=READY_TIMEOUT):
    """/healthz of this very child (service and pid), or None when it exited or never answered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.alive():
        health = healthz(host, port)
        if health and health.get("service") == "daydream-rtc" and health.get("pid") == child.pid:
            return health
        time.sleep(0.1)
    return None


MANAGER = ServerManager()
