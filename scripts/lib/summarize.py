#!/usr/bin/python3
"""Count test results for scripts/test.

  summarize.py meson LOG.json   GstCheck cases and GTest (TAP) cases inside each
                                meson test count one by one; any other meson
                                test counts as one
  summarize.py pytest OUTPUT    pytest's closing line

Prints "PASSED FAILED" on one line. A runner that ran no test at all counts
as one failure, so an empty run can never pass.
"""

import json
import re
import sys

CHECKS = re.compile(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)")
TAP = re.compile(r"^(not ok|ok) \d+", re.MULTILINE)


def meson(path):
    passed = failed = 0
    with open(path, encoding="utf-8") as log:
        for line in log:
            test = json.loads(line)
            ok = test["result"] in ("OK", "EXPECTEDFAIL")
            out = test.get("stdout") or ""
            match = CHECKS.search(out)
            tap = TAP.findall(out)
            if tap:  # GTest with --tap: one line per case
                passed += tap.count("ok")
                failed += tap.count("not ok") or (0 if ok else 1)
            elif match and ok:
                passed += int(match.group(1))
            elif match and int(match.group(2)) + int(match.group(3)) > 0:
                n, f, e = (int(g) for g in match.groups())
                passed += n - f - e
                failed += f + e
            elif ok:
                passed += 1
            else:
                failed += 1  # crashed, timed out, or failed without a count
    return passed, failed


def pytest(path):
    with open(path, encoding="utf-8", errors="replace") as out:
        text = out.read()
    counts = {k: 0 for k in ("passed", "failed", "error", "errors", "xpassed")}
    lines = [line for line in text.splitlines() if re.search(r"\d+ (passed|failed|errors?)", line)]
    if lines:
        for n, word in re.findall(r"(\d+) (passed|failed|errors?|xpassed)", lines[-1]):
            counts[word] += int(n)
    return (
        counts["passed"],
        counts["failed"] + counts["error"] + counts["errors"] + counts["xpassed"],
    )


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    try:
        p, f = meson(path) if kind == "meson" else pytest(path)
    except (OSError, ValueError, KeyError) as exc:
        print(f"summarize: cannot read {path}: {exc}", file=sys.stderr)
        p, f = 0, 1
    print(p, f if p + f > 0 else 1)
