"""The pack's own files: a settings JSON (no secrets) and the API key in a 0600 file, both written
atomically, in the pack's settings folder (DAYDREAM_RTC_SETTINGS_DIR, else ComfyUI's user folder
/daydream-rtc, else ~/.config/daydream-rtc). The key is never written to ComfyUI's settings file,
a workflow, a command line or a log; responses only say whether there is one."""

import json
import os
import pathlib
import tempfile

DEFAULT_API_URL = "https://api.daydream.live"
LOCAL_API_URL = "local"  # DAYDREAM_API_URL=local: the manager also runs the local gateway
DEFAULTS = {"host": "127.0.0.1", "port": 8895, "binary": "", "offline": False, "api_url": ""}
# serve's frame queue: lossless by default, so a batch from FrameInput arrives whole (serve's own
# default, leaky, drops the oldest frames of a batch longer than its 90-frame queue)
DEFAULTS["queue_mode"] = "backpressure"
QUEUE_MODES = ("backpressure", "leaky", "latest")


def settings_dir():
    explicit = os.environ.get("DAYDREAM_RTC_SETTINGS_DIR")
    if explicit:
        path = pathlib.Path(explicit)
    else:
        try:
            import folder_paths

            path = pathlib.Path(folder_paths.get_user_directory()) / "daydream-rtc"
        except (ImportError, AttributeError):
            path = pathlib.Path.home() / ".config" / "daydream-rtc"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def write_atomic(path, text, mode=0o600):
    """temp file in the same folder, fsync, rename: readers see the old or the new file."""
    path = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_json(path):
    try:
        value = json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def load_settings():
    stored = read_json(settings_dir() / "settings.json")
    return {**DEFAULTS, **{k: v for k, v in stored.items() if k in DEFAULTS}}


def save_settings(**changes):
    current = read_json(settings_dir() / "settings.json")
    current.update({k: v for k, v in changes.items() if k in DEFAULTS})
    write_atomic(settings_dir() / "settings.json", json.dumps(current, indent=2) + "\n")


def normalise_url(url):
    url = (url or "").strip().rstrip("/")
    return url


def clean_key(key):
    return (key or "").replace("\r", "").replace("\n", "").strip()


def key_file():
    return settings_dir() / "api_key"


def stored_key():
    try:
        return clean_key(key_file().read_text())
    except OSError:
        return ""


def save_key(key):
    """Stores the key (0600, atomic); an empty key removes the file."""
    key = clean_key(key)
    if key:
        write_atomic(key_file(), key + "\n")
    elif key_file().exists():
        key_file().unlink()


def credentials():
    """(api_url, api_key, sources): the pack's files first, then the environment (spec §4.1)."""
    stored_url = normalise_url(load_settings().get("api_url"))
    env_url = normalise_url(os.environ.get("DAYDREAM_API_URL"))
    if stored_url and stored_url != DEFAULT_API_URL:
        api_url, url_source = stored_url, "settings"
    elif env_url:
        api_url, url_source = env_url, "env"
    else:
        api_url, url_source = DEFAULT_API_URL, "default"
    key, key_source = stored_key(), "settings"
    if not key:
        key, key_source = clean_key(os.environ.get("DAYDREAM_API_KEY")), "env"
    if not key:
        key_source = "missing"
    return api_url, key, {"api_url": url_source, "api_key": key_source}


def offline(api_url=None):
    """True when the manager should also run `daydream-rtc gateway` and point serve at it."""
    if api_url is None:
        api_url = credentials()[0]
    return api_url.lower() == LOCAL_API_URL or bool(load_settings().get("offline"))
