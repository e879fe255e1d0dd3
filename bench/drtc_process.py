"""A daydream-rtc command for a bench: started on port 0, its URL read from the first line."""

import os
import pathlib
import select
import subprocess
import sys


def start(binary, *args, env=None, stderr=subprocess.DEVNULL, timeout=15):
    """(process, base URL) of ``binary args --port 0``; ends the bench when it does not start."""
    binary = pathlib.Path(binary)
    full = dict(os.environ)
    full.setdefault("GST_PLUGIN_PATH_1_0", str(binary.parent.parent / "gst"))
    full.setdefault("NICE_DISABLE_UPNP", "1")  # keep libnice off the LAN
    full.update(env or {})
    proc = subprocess.Popen(
        [str(binary), *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=full,
        text=True,
    )
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if "listening on " not in line:
        proc.kill()
        sys.exit(f"{binary} {args[0]} did not start: {line!r}")
    return proc, line.split("listening on ")[1].split()[0]
