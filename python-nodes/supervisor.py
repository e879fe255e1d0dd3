"""Keeps one child (serve or gateway) running for the manager: the first launch, then a restart
with bounded backoff after each crash. The child is forked from this thread, which lives until the
child is reaped, so the child's PR_SET_PDEATHSIG fires only when ComfyUI itself is gone."""

import logging
import threading
import time

log = logging.getLogger("daydream-rtc")

MAX_BACKOFF = 30.0
STABLE_SECONDS = 60.0  # a child that ran this long starts the backoff over


class LaunchError(RuntimeError):
    """A child that could not be started (the message says why and what to do)."""


class Supervisor(threading.Thread):
    """`launch(log_file, first)` returns a started, ready process.Child or raises LaunchError."""

    def __init__(self, name, launch, log_path):
        super().__init__(name=f"rtc-{name}", daemon=True)
        self.kind = name
        self.launch = launch
        self.log_path = log_path
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self.error = ""
        self.child = None
        self.restarts = 0

    def run(self):
        with open(self.log_path, "a", buffering=1) as log_file:
            try:
                self.child = self.launch(log_file, True)
            except (LaunchError, OSError) as exc:  # OSError: the binary would not execute
                self.error = str(exc)
                return
            finally:
                self.ready.set()
            try:
                self.keep_running(log_file)
            finally:  # a child launched while stop() was waiting for us
                if self.child is not None:
                    self.child.stop()

    def keep_running(self, log_file):
        delay = 1.0
        while not self.stopping.is_set():
            began = time.monotonic()
            rc = self.child.wait() if self.child is not None else None
            if self.stopping.is_set():
                return
            if self.child is not None:
                log.warning("daydream-rtc %s exited (status %s); restarting", self.kind, rc)
            if time.monotonic() - began > STABLE_SECONDS:
                delay = 1.0
            if self.stopping.wait(delay):
                return
            delay = min(delay * 2, MAX_BACKOFF)
            self.child = self.relaunch(log_file)

    def relaunch(self, log_file):
        try:
            child = self.launch(log_file, False)
        except (LaunchError, OSError) as exc:
            log.warning("daydream-rtc %s restart failed: %s", self.kind, exc)
            return None
        self.restarts += 1
        return child

    def pid(self):
        child = self.child
        return child.pid if child is not None and child.alive() else None

    def stop(self):
        """Ends the child (SIGTERM, then SIGKILL) and this thread."""
        self.stopping.set()
        child = self.child
        if child is not None:
            child.stop()
        self.join(15)
