#!/usr/bin/env python3
"""The server's module graph: which top-level module of server/src uses which
(by its `crate::` references, comments left out). Fails when the graph has a
cycle; with -v prints every module's dependencies.

    scripts/module-graph.py [-v] [server/src]
"""
import os
import re
import sys

verbose = "-v" in sys.argv
args = [a for a in sys.argv[1:] if a != "-v"]
root = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "server", "src")

modules = set()
for entry in os.listdir(root):
    if entry.endswith(".rs") and entry not in ("lib.rs", "main.rs"):
        modules.add(entry[:-3])
    elif os.path.isdir(os.path.join(root, entry)):
        modules.add(entry)

uses = {m: set() for m in modules}
for folder, _, files in os.walk(root):
    for name in files:
        if not name.endswith(".rs"):
            continue
        path = os.path.join(folder, name)
        top = os.path.relpath(path, root).split(os.sep)[0].removesuffix(".rs")
        if top not in modules:
            continue
        code = "\n".join(line.split("//")[0] for line in open(path, encoding="utf-8"))
        used = set(re.findall(r"crate::(\w+)", code))
        for group in re.findall(r"crate::\{([^}]*)\}", code, re.S):
            used |= set(re.findall(r"(?:^|[,{\s])(\w+)", group))
        uses[top] |= {m for m in used if m in modules and m != top}

# Tarjan's strongly connected components: any with two or more modules is a cycle.
index, low, stack, on_stack, cycles = {}, {}, [], set(), []
sys.setrecursionlimit(10_000)


def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in sorted(uses[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        component = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            component.append(w)
            if w == v:
                break
        if len(component) > 1:
            cycles.append(sorted(component))


for module in sorted(modules):
    if module not in index:
        visit(module)

if verbose:
    for module in sorted(modules):
        print(f"{module} -> {', '.join(sorted(uses[module])) or '(nothing)'}")
for cycle in cycles:
    print(f"cycle: {' <-> '.join(cycle)}", file=sys.stderr)
if cycles:
    sys.exit(1)
print(f"{len(modules)} top-level modules, no cycles")
