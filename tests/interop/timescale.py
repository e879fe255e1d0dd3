"""One scale for every wait of the tests: DRTC_TEST_TIME_SCALE.

scripts/test --sanitize sets it (instrumented binaries on two shared cores run several times
slower), and so does `meson test --setup valgrind` for the C suites. Every deadline a test waits
on, and every element or server timeout a test sets, is multiplied by it; what a test asserts
stays the same. Unset it is 1: the normal run waits exactly what the tests say.
"""

import math
import os


def _read_scale():
    text = os.environ.get("DRTC_TEST_TIME_SCALE", "1")
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"DRTC_TEST_TIME_SCALE={text!r} is not a number") from None
    return max(value, 1.0)


SCALE = _read_scale()


def scaled(seconds):
    """``seconds`` of waiting, scaled (a float)."""
    return seconds * SCALE


def scaled_int(value):
    """An integer timeout (seconds or milliseconds) for an element or server option, scaled
    and rounded up."""
    return int(math.ceil(value * SCALE))
