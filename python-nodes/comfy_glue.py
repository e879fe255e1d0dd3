"""The few ComfyUI services the nodes use, looked up when used (never at import): the websocket
events to the browser, the progress bar, the interrupt flag."""

import logging

log = logging.getLogger("daydream-rtc")

NOTIFICATION_EVENT = "rtc-stream-notification"
# The browser side (web/) sets a node's widget to a value when it gets this event: how the Start
# node resets its stop toggle in the workflow the user sees (weakness 27).
WIDGET_EVENT = "rtc-stream-widget"


def _prompt_server():
    try:
        from server import PromptServer
    except ImportError:
        return None
    return getattr(PromptServer, "instance", None)


def send_event(event, data):
    server = _prompt_server()
    if server is None:
        return False
    try:
        server.send_sync(event, data)
    except Exception as exc:  # a closed websocket must not fail the node
        log.debug("could not send %s: %s", event, exc)
        return False
    return True


def notify(severity, summary, detail=""):
    """A toast in the browser (spec §9.1) and the same line in the log."""
    level = {"error": logging.ERROR, "warn": logging.WARNING}.get(severity, logging.INFO)
    log.log(level, "%s: %s", summary, detail)
    send_event(NOTIFICATION_EVENT, {"severity": severity, "summary": summary, "detail": detail})


def set_widget(node_id, widget, value):
    if node_id is None:
        return False
    return send_event(WIDGET_EVENT, {"node_id": str(node_id), "widget": widget, "value": value})


class _NoProgress:
    def update_absolute(self, value, total=None, preview=None):
        pass


def progress_bar(total, node_id=None):
    try:
        from comfy.utils import ProgressBar
    except ImportError:
        return _NoProgress()
    return ProgressBar(total, node_id=node_id) if node_id is not None else ProgressBar(total)


def check_interrupted():
    """Raises ComfyUI's interrupt exception when the user cancelled the run."""
    try:
        from comfy.model_management import throw_exception_if_processing_interrupted
    except ImportError:
        return
    throw_exception_if_processing_interrupted()
