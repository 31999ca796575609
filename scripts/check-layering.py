#!/usr/bin/env python3
"""Checks that dinfer's folders include each other without a cycle.

A component is a library folder with its public headers: lib/X and
include/dinfer/X are component X, dialects/X is dialect X, tools/X and
python/src are the front ends. An include of "dinfer/Y/..." or
"dialects/Y/..." from a file of component X is an edge X -> Y. Prints the
order of the layers (bottom first) and exits 1 naming the files of every
edge on a cycle.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"((?:dinfer|dialects)/([A-Za-z]+))/')


def component(path):
    parts = os.path.relpath(path, ROOT).split(os.sep)
    if parts[0] == "lib" and len(parts) > 2:
        return "dinfer/" + parts[1]
    if parts[:2] == ["include", "dinfer"] and len(parts) > 3:
        return "dinfer/" + parts[2]
    if parts[0] == "dialects" and len(parts) > 2:
        return "dialects/" + parts[1]
    if parts[0] == "tools" and len(parts) > 2:
        return "tools/" + parts[1]
    if parts[:2] == ["python", "src"]:
        return "python"
    return None


def edges():
    found = {}
    for top in ("lib", "include", "dialects", "tools", "python"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if not name.endswith((".h", ".cpp", ".td")):
                    continue
                path = os.path.join(folder, name)
                source = component(path)
                if source is None:
                    continue
                with open(path, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        m = INCLUDE.match(line)
                        if m and m.group(1) != source and m.group(1) != "dinfer/Version":
                            found.setdefault((source, m.group(1)), []).append(os.path.relpath(path, ROOT))
    return found


def main():
    found = edges()
    graph = {}
    for (a, b) in found:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    # Tarjan's strongly connected components: any component of more than one
    # folder is a cycle.
    index, low, stack, on_stack, sccs = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            sccs.append(sorted(scc))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = [s for s in sccs if len(s) > 1]
    if cycles:
        for scc in cycles:
            print("include cycle between " + ", ".join(scc) + ":")
            for (a, b), files in sorted(found.items()):
                if a in scc and b in scc:
                    print("  %s -> %s: %s" % (a, b, ", ".join(sorted(set(files))[:4])))
        return 1
    # Tarjan emits components bottom first.
    print("layers, bottom first: " + " < ".join(s[0] for s in sccs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
