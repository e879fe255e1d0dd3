"""One child process of the manager: started so that it dies with ComfyUI (PR_SET_PDEATHSIG, set
in the child before exec, relative to the thread that forks it: the manager forks from a
supervisor thread that outlives the child), its output appended to api_server.log and echoed to
the console with an "[RTC] " prefix by one pump thread that ends with the child."""

import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import threading

console = logging.getLogger("daydream-rtc.server")
PR_SET_PDEATHSIG = 1

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
except OSError:  # not Linux: the exit hooks alone stop the child
    _libc = None


def _die_with_parent(parent_pid):
    def preexec():
        if _libc is not None:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class Child:
    """A started child; `lines` sees every output line (the gateway's URL is read from it)."""

    def __init__(self, argv, env, log_file, on_line=None):
        self.on_line = on_line
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(os.getpid()),
            close_fds=True,
        )
        self.pump = threading.Thread(
            target=self._pump, args=(log_file,), name=f"rtc-log-{self.proc.pid}", daemon=True
        )
        self.pump.start()

    @property
    def pid(self):
        return self.proc.pid

    def _pump(self, log_file):
        with self.proc.stdout:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                log_file.write(line + "\n")
                log_file.flush()
                console.info("[RTC] %s", line)
                if self.on_line is not None:
                    self.on_line(line)

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout=None):
        rc = self.proc.wait(timeout)
        self.pump.join(5)
        return rc

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL after `grace` seconds; returns once the child is reaped."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.wait()
