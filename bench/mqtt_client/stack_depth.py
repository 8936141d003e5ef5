"""Worst-case stack depth from gcc -fstack-usage -fcallgraph-info=su output (.ci files in
the current directory): for each named root function, the deepest call path and its byte
total. Indirect calls (the application's callbacks, the transport) are not included.
Usage: stack_depth.py FUNCTION...  -> "FUNCTION BYTES path" per line."""
import glob
import re
import sys

frames = {}
edges = {}
for path in glob.glob("*.ci"):
    text = open(path).read()
    for m in re.finditer(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
        name = m.group(1).split(":")[-1]
        size = re.search(r"\\n(\d+) bytes", m.group(2))
        if size:
            frames[name] = int(size.group(1))
        else:
            frames.setdefault(name, 0)
    for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
        edges.setdefault(m.group(1).split(":")[-1], set()).add(m.group(2).split(":")[-1])

memo = {}


def deepest(name, active=()):
    if name in active:
        return 0, ["<recursion>"]
    if name in memo:
        return memo[name]
    best = (0, [])
    for callee in edges.get(name, ()):
        sub = deepest(callee, active + (name,))
        if sub[0] > best[0]:
            best = sub
    result = (frames.get(name, 0) + best[0], ["%s(%d)" % (name, frames.get(name, 0))] + best[1])
    memo[name] = result
    return result


for root in sys.argv[1:]:
    total, path = deepest(root)
    print(root, total, " -> ".join(path))
