#!/usr/bin/env python3
"""Worst-case stack of each public mote_json_* function from gcc -fcallgraph-info=su files.

usage: stack.py FILE.ci... -> "function<TAB>bytes<TAB>deepest call chain" lines.
Library helpers without a size (memcpy, __aeabi_*) count as 0: they are leaf routines of a
few words, listed in the chain so a reader can see them."""
import re
import sys

nodes, edges = {}, {}
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            m = re.match(r'node: \{ title: "([^"]+)" label: "([^"]*)"', line)
            if m:
                size = re.search(r'\\n(\d+) bytes', m.group(2))
                title = m.group(1)
                if size or title not in nodes:
                    nodes[title] = int(size.group(1)) if size else 0
                continue
            m = re.match(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', line)
            if m:
                edges.setdefault(m.group(1), set()).add(m.group(2))

memo = {}


def worst(n, seen=()):
    if n in memo:
        return memo[n]
    if n in seen:
        raise SystemExit("recursion through " + n)
    best, chain = 0, []
    for t in edges.get(n, ()):
        s, c = worst(t, seen + (n,))
        if s > best:
            best, chain = s, c
    memo[n] = (nodes.get(n, 0) + best, [n.split(":")[-1]] + chain)
    return memo[n]


for n in sorted(nodes):
    if n.startswith("mote_json_"):
        s, chain = worst(n)
        print("%s\t%d\t%s" % (n, s, " > ".join(chain)))
