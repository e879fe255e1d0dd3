"""What a batch test knows exactly about serve, and what it can only read back.

serve's side is counted exactly from /metrics: every frame of the batch accepted, sent into
the stream's pipeline once, none dropped, none refused, no reconnect. The far end is read back
through the gateway's effect, WHEP and /whep/frame: that path is UDP through a loaded 2-core
machine, and the publish side has no retransmission (NACK) yet, so a lost packet can cost a
frame there; the read-back must be in order, end with the batch's last frame and miss at most
MAX_LOST_ON_THE_WIRE frames (before serve's lossless default it missed 56 of 150).
"""

import re

import requests

MAX_LOST_ON_THE_WIRE = 2


def counters(base, stream="default"):
    text = requests.get(f"{base}/metrics", timeout=5).text
    pattern = r'^daydream_rtc_(\w+)\{stream="%s"\} (\S+)$' % re.escape(stream)
    return {name: float(value) for name, value in re.findall(pattern, text, re.M)}


def check_batch(before, after, count, seen):
    """``before``/``after``: counters() around the batch; ``seen``: the indices read back."""
    d = {name: after[name] - before.get(name, 0.0) for name in after}
    assert d["frames_in_total"] == count, d
    assert d["frames_dropped_total"] == 0 and d["frames_refused_total"] == 0, d
    # every frame that came in or waited in the queue before went out once; the other ticks
    # repeated the last frame or, before the batch's first, sent the fallback frame
    live = d["frames_out_total"] - d["frames_repeated_total"] - d["frames_fallback_total"]
    assert live == count - d["queue_depth"], d
    assert d["reconnects_total"] == 0, d
    assert seen == sorted(set(seen)), f"out of order or repeated: {seen}"
    assert seen and seen[-1] == count - 1, seen
    missing = sorted(set(range(count)) - set(seen))
    assert len(missing) <= MAX_LOST_ON_THE_WIRE, (missing, seen)
