#!/usr/bin/python3
"""No function over 80 lines in gst/, app/, common/ (*.c, *.h).

Usage: function_size.py SOURCE_ROOT

Functions are read the way gst-indent (GNU style) lays them out: the name at
column 0 followed by " (", the parameters, then "{" and "}" each alone at
column 0. A function's size is the lines between its braces. Struct, enum
and union bodies, data tables and macros such as G_DEFINE_QUARK are not
functions. A long function is split into named steps, except the tables
below, which the architecture issue (#17) sets aside.
"""

import pathlib
import re
import sys

LIMIT = 80
DIRS = ("gst", "app", "common")
NAME = re.compile(r"^([A-Za-z_]\w*) \(")

EXEMPT = {
    # class_init: one g_object_class_install_property per property, a table
    "gst_daydream_frame_bridge_src_class_init": "GObject class_init",
    "gst_daydream_whep_src_class_init": "GObject class_init",
    "gst_daydream_whip_sink_class_init": "GObject class_init",
    "gst_daydream_control_class_init": "GObject class_init",
}


def functions(lines):
    """(name, first line number, body lines) of each function of a file."""
    i = 0
    while i < len(lines):
        if lines[i] != "{":
            i += 1
            continue
        j = i - 1
        while j >= 0 and lines[j][:1] in (" ", "\t"):
            j -= 1  # parameter continuation lines
        match = NAME.match(lines[j]) if j >= 0 else None
        end = i + 1
        while end < len(lines) and not lines[end].startswith("}"):
            end += 1
        if match:
            yield match.group(1), j + 1, end - i - 1
        i = end + 1


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: function_size.py SOURCE_ROOT")
    root = pathlib.Path(argv[1])
    files = sorted(
        path for d in DIRS for pattern in ("*.c", "*.h") for path in (root / d).rglob(pattern)
    )
    if not files:
        sys.exit(f"no sources under {root}: wrong SOURCE_ROOT?")
    over, seen, count = [], set(), 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        for name, line, size in functions(lines):
            count += 1
            seen.add(name)
            if size > LIMIT and name not in EXEMPT:
                over.append((size, f"{path.relative_to(root)}:{line}", name))
    for size, where, name in sorted(over, reverse=True):
        print(f"{where}: {name} is {size} lines (limit {LIMIT})")
    stale = sorted(set(EXEMPT) - seen)
    for name in stale:
        print(f"exemption for {name}, which no longer exists: remove it")
    print(f"{count} functions, {len(over)} over {LIMIT} lines")
    return 1 if over or stale or not count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
