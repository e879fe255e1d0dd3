#!/usr/bin/python3
"""No source file over 900 lines in gst/, app/, common/ (*.c, *.h).

Usage: file_size.py SOURCE_ROOT

A file that grows past the limit is split along a real seam (one concern per
file), not squeezed; see docs/architecture.md, "Shape rules".
"""

import pathlib
import sys

LIMIT = 900
DIRS = ("gst", "app", "common")


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: file_size.py SOURCE_ROOT")
    root = pathlib.Path(argv[1])
    files = sorted(
        path for d in DIRS for pattern in ("*.c", "*.h") for path in (root / d).rglob(pattern)
    )
    if not files:
        sys.exit(f"no sources under {root}: wrong SOURCE_ROOT?")
    over = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            lines = sum(1 for _ in f)
        if lines > LIMIT:
            over.append((lines, path.relative_to(root)))
    for lines, path in sorted(over, reverse=True):
        print(f"{path}: {lines} lines (limit {LIMIT})")
    print(f"{len(files)} files, {len(over)} over {LIMIT} lines")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
