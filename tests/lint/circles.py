#!/usr/bin/python3
"""No circles: within each code unit no two files call each other, even
through other files.

Usage: circles.py NM TARGET...

Each TARGET is a built target (the plugin, the app, the common library) as
meson names it; its objects lie in meson's private directory TARGET.p/.
File A calls file B when a symbol A leaves undefined is a function (nm type
T) that B defines. Data symbols (debug categories, tables) are not calls.
The call graph's strongly connected components (Tarjan) larger than one file
are circles: each is listed with the symbols on each of its edges.
"""

import glob
import os
import subprocess
import sys


def symbols(nm, obj):
    """(functions defined, symbols undefined) of one object file."""
    out = subprocess.run([nm, "-g", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] == "T":
            defined.add(fields[2])
        elif len(fields) == 2 and fields[0] == "U":
            undefined.add(fields[1])
    return defined, undefined


def call_graph(nm, objects):
    """{file: {callee file: sorted symbols it calls there}}."""
    syms = {}
    for obj in objects:
        name = os.path.basename(obj)
        syms[name[: -len(".o")] if name.endswith(".o") else name] = symbols(nm, obj)
    graph = {}
    for a, (_, undefined) in syms.items():
        graph[a] = {}
        for b, (defined, _) in syms.items():
            called = undefined & defined
            if b != a and called:
                graph[a][b] = sorted(called)
    return graph


def strongly_connected(graph):
    """Tarjan's algorithm, iterative; components of more than one node."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, callees = work[-1]
            for callee in callees:
                if callee not in index:
                    index[callee] = low[callee] = counter
                    counter += 1
                    stack.append(callee)
                    on_stack.add(callee)
                    work.append((callee, iter(sorted(graph[callee]))))
                    break
                if callee in on_stack:
                    low[node] = min(low[node], index[callee])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: circles.py NM TARGET...")
    nm, failures = argv[1], 0
    for target in argv[2:]:
        objects = sorted(glob.glob(glob.escape(target + ".p") + "/*.o"))
        if not objects:
            print(f"{target}: no objects in {target}.p/ (meson's layout changed?)")
            failures += 1
            continue
        graph = call_graph(nm, objects)
        circles = strongly_connected(graph)
        unit = os.path.basename(target)
        print(f"{unit}: {len(objects)} files, {len(circles)} circle(s)")
        for component in circles:
            failures += 1
            print(f"  circle: {' <-> '.join(component)}")
            for a in component:
                for b in component:
                    if b in graph[a]:
                        print(f"    {a} -> {b}: {', '.join(graph[a][b])}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
