#!/usr/bin/env python3
"""Each server's route table against its documents.

serve: docs/openapi.json (served at /openapi.json); the gateway: the method-and-path tables of
docs/gateway.md. Every route in a table is documented, every documented method and path is in
the table. /preview is drtc-preview.c's own handler (docs/preview.md), not a table route.

usage: routes.py DAYDREAM_RTC DOCS_DIR
"""

import json
import re
import subprocess
import sys
from pathlib import Path

METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def normal(method, path):
    """("GET", "/streams/{}/start"): placeholders by position, not by name."""
    return method.upper(), re.sub(r"\{[^}/]*\}", "{}", path)


def table(binary, command):
    out = subprocess.run(
        [binary, command, "--list-routes"], capture_output=True, text=True, check=True
    ).stdout
    routes = [tuple(line.split(" ", 1)) for line in out.splitlines() if line]
    assert routes, f"{command} --list-routes printed no routes"
    return {normal(m, p) for m, p in routes}


def openapi_routes(doc):
    return {
        normal(method, path)
        for path, ops in doc["paths"].items()
        if not path.startswith("/preview")
        for method in ops
        if method in METHODS
    }


def gateway_md_routes(text):
    """Rows "| `METHOD /path ...` |"; ".../whip/{session}" continues the last full path."""
    routes, full = set(), []
    for method, path in re.findall(r"^\| `([A-Z]+) (\S+?)[`?]", text, re.M):
        if path.startswith("..."):
            tail = path[3:]
            head = "/" + tail.split("/")[1]
            base = next(p for p in reversed(full) if p.endswith(head))
            path = base[: -len(head)] + tail
        else:
            full.append(path)
        if not path.startswith("/preview"):
            routes.add(normal(method, path))
    return routes


def compare(name, routed, documented):
    problems = [f"{name}: {m} {p} is routed but not documented" for m, p in routed - documented]
    problems += [f"{name}: {m} {p} is documented but not routed" for m, p in documented - routed]
    return sorted(problems)


def main():
    binary, docs = sys.argv[1], Path(sys.argv[2])
    serve_doc = json.loads((docs / "openapi.json").read_text())
    problems = compare("serve", table(binary, "serve"), openapi_routes(serve_doc))
    gateway_doc = gateway_md_routes((docs / "gateway.md").read_text())
    problems += compare("gateway", table(binary, "gateway"), gateway_doc)
    for line in problems:
        print(line)
    if not problems:
        print("every route documented, every documented route served")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
