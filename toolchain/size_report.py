#!/usr/bin/env python3
"""Footprint report for `make size` (driven by toolchain/size.sh, which builds the inputs).

Reads, from the build directory given as argv[1]:
  full/keep.map, v311/keep.map   GNU ld maps of Cortex-M4 links that keep every public core
  full/jsonscan.map              the same with only JSON validate/find/iterate kept
  full/json-steps.txt, full/json-NAME.map
                                 cumulative links, one JSON capability added per step
  nodouble/device.map            the device link built with -DMOTE_JSON_DOUBLE=0
                                 function (-Wl,--undefined=...) and gc the rest
  full/*.ci                      gcc -fcallgraph-info=su call graphs of the core objects
  full/public.txt                public function names (declared in include/mote/*.h)
  sizeof.txt                     "name bytes" lines (client context sizes)
  cross.txt                      "label path" lines of static ARM tools to measure
  firmware.txt                   optional: text data bss of the sample firmware image
Prints one Markdown table (plus the per-call stack list) and, with --readme FILE, rewrites
the block between <!-- size:begin --> and <!-- size:end --> in FILE.
"""
import glob
import os
import re
import sys

BEGIN, END = "<!-- size:begin -->", "<!-- size:end -->"
TEXT_SECTIONS = {".text", ".isr_vector", ".ARM.exidx", ".ARM.extab", ".rodata", ".eh_frame",
                 ".gcc_except_table", ".init", ".fini", ".plt", ".iplt", ".rel.dyn", ".rela.dyn"}
DATA_SECTIONS = {".data", ".data.rel.ro", ".got", ".got.plt", ".init_array", ".fini_array",
                 ".tdata"}


def component_of(obj):
    """Which part of a static Linux tool an input object belongs to."""
    o = obj.replace("\\", "/")
    if "libmbed" in o:
        return "mbedTLS"
    if "glibc-compat" in o:
        return "libc"
    if "/libgcc" in o:
        return "libgcc"
    if "libc.a" in o or "musl" in o or o.endswith("crt1.o") or "/crt" in o:
        return "libc"
    if "libmote.a" in o:
        return "core"
    return "tool"  # the mote tool and its TCP/TLS adapters (libmote-posix.a)


def breakdown(map_path):
    parts = {}
    for obj, s in parse_map(map_path).items():
        c = component_of(obj)
        parts[c] = parts.get(c, 0) + s["text"] + s["data"]
    order = ["libc", "mbedTLS", "core", "tool", "libgcc"]
    return ", ".join("%s %d KB" % (k, (parts[k] + 512) // 1024) for k in order if parts.get(k))


def module_of(obj):
    base = os.path.basename(obj)
    if base.startswith("mqtt_"):
        return "mqtt"
    if base.startswith("json"):
        return "json"
    if base.startswith("aws_"):
        return "aws"
    return "shared"


def parse_map(path):
    """Per input object: bytes in text (incl. rodata), data and bss of the final image."""
    sizes = {}
    out_sec = None
    in_memory_map = False
    pending = None
    last = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("Linker script and memory map"):
                in_memory_map = True
                continue
            if not in_memory_map:
                continue
            m = re.match(r"^(\.[\w.]+)\s", line) or re.match(r"^(\.[\w.]+)$", line)
            if m:
                out_sec = m.group(1)
                pending = None
                continue
            if out_sec is None:
                continue
            # An input section: " .text.name 0xADDR 0xSIZE file", possibly wrapped after the name.
            m = re.match(r"^\s+0x([0-9a-f]+) \(size before relaxing\)$", line)
            if m and last is not None:
                # A mergeable-string input section folded into an earlier one: the map repeats
                # the merged size; the object's own bytes are at most its size before merging.
                entry, kind, size = last
                entry[kind] -= size - min(size, int(m.group(1), 16))
                last = None
                continue
            last = None
            m = re.match(r"^ (\.[^\s]+|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(.+)$", line)
            if not m and pending is not None:
                m2 = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(.+)$", line)
                if m2:
                    m = (pending, m2.group(1), m2.group(2), m2.group(3))
                pending = None
            elif not m:
                m3 = re.match(r"^ (\.[^\s]+|COMMON)$", line)
                pending = m3.group(1) if m3 else None
                continue
            if m is None:
                continue
            if not isinstance(m, tuple):
                m = (m.group(1), m.group(2), m.group(3), m.group(4))
            _, _, size_hex, obj = m
            size = int(size_hex, 16)
            if size == 0:
                continue
            if out_sec in TEXT_SECTIONS:
                kind = "text"
            elif out_sec in DATA_SECTIONS:
                kind = "data"
            elif out_sec in (".bss", ".tbss"):
                kind = "bss"
            else:
                continue
            obj = obj.strip()
            entry = sizes.setdefault(obj, {"text": 0, "data": 0, "bss": 0})
            entry[kind] += size
            last = (entry, kind, size)
    return sizes


def group(sizes):
    mods = {}
    for obj, s in sizes.items():
        if "/stub/" in obj:
            continue  # the stand-in main() and start-up code, not part of Mote
        if "/core/" not in obj.replace("\\", "/"):
            key = "runtime"
        else:
            key = module_of(obj)
        m = mods.setdefault(key, {"text": 0, "data": 0, "bss": 0, "files": 0})
        for k in ("text", "data", "bss"):
            m[k] += s[k]
        m["files"] += 1
    return mods


def parse_callgraphs(paths):
    nodes, edges = {}, {}
    for p in paths:
        with open(p, errors="replace") as f:
            for line in f:
                m = re.match(r'node: \{ title: "([^"]+)" label: "[^"]*\\n[^"]*\\n(\d+) bytes \(([^)]*)\)', line)
                if m:
                    nodes[m.group(1)] = (int(m.group(2)), m.group(3))
                    continue
                m = re.match(r'node: \{ title: "([^"]+)"', line)
                if m and m.group(1) not in nodes:
                    nodes[m.group(1)] = (0, "placeholder")
                    continue
                m = re.match(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', line)
                if m:
                    edges.setdefault(m.group(1), set()).add(m.group(2))
    return nodes, edges


def worst_stack(name, nodes, edges, memo, onstack):
    """(bytes, notes) for the deepest path from name; notes flag recursion, dynamic frames,
    indirect calls (the application's callbacks) and external (libc) callees."""
    if name in memo:
        return memo[name]
    if name in onstack:
        return (0, {"recursion"})
    onstack.add(name)
    own, kind = nodes.get(name, (0, "external"))
    notes = set()
    if kind == "external":
        notes.add("external:" + name)
    elif "dynamic" in kind and "bounded" not in kind:
        notes.add("dynamic")
    best = 0
    for callee in edges.get(name, ()):
        if callee == "__indirect_call":
            notes.add("callbacks")
            continue
        b, n = worst_stack(callee, nodes, edges, memo, onstack)
        notes |= n
        best = max(best, b)
    onstack.discard(name)
    memo[name] = (own + best, notes)
    return memo[name]


def deepest_path(name, nodes, edges, memo, onstack=frozenset()):
    """The call chain behind worst_stack, as [(function, frame bytes), ...]."""
    if name in memo:
        return memo[name]
    own = nodes.get(name, (0, "external"))[0]
    best = (0, [])
    for callee in edges.get(name, ()):
        if callee == "__indirect_call" or callee in onstack or callee == name:
            continue
        b = deepest_path(callee, nodes, edges, memo, onstack | {name})
        if b[0] > best[0]:
            best = b
    memo[name] = (own + best[0], [(name.rsplit(":", 1)[-1], own)] + best[1])
    return memo[name]


def fmt(n):
    return "{:,}".format(n)


def kb(n):
    return "{:,} B ({} KB)".format(n, (n + 512) // 1024)


def verdict(value, limit):
    if value is None or limit is None:
        return ""
    return "yes" if value <= limit else "**no**"


def main():
    bdir = sys.argv[1]
    readme = None
    if "--readme" in sys.argv:
        readme = sys.argv[sys.argv.index("--readme") + 1]

    full = group(parse_map(os.path.join(bdir, "full", "device.map")))
    v311 = group(parse_map(os.path.join(bdir, "v311", "device.map")))
    full_all = group(parse_map(os.path.join(bdir, "full", "keep.map")))
    jsonscan = group(parse_map(os.path.join(bdir, "full", "jsonscan.map")))
    v311_all = group(parse_map(os.path.join(bdir, "v311", "keep.map")))
    nodouble = group(parse_map(os.path.join(bdir, "nodouble", "device.map")))
    public = set(open(os.path.join(bdir, "full", "public.txt")).read().split())
    nodes, edges = parse_callgraphs(sorted(glob.glob(os.path.join(bdir, "full", "core", "*.ci"))))
    sizeof = {}
    with open(os.path.join(bdir, "sizeof.txt")) as f:
        for line in f:
            k, v = line.split()
            sizeof[k] = int(v)

    rows = []  # (figure, text, data, bss, mote, target, met, peer)

    def mod_row(label, m, target, peer):
        if not m:
            rows.append((label, "", "", "", "none yet", fmt(target) + " B" if target else "", "", peer))
            return
        flash = m["text"] + m["data"]
        rows.append((label, fmt(m["text"]), fmt(m["data"]), fmt(m["bss"]),
                     fmt(flash) + " B", ("≤ " + fmt(target) + " B") if target else "",
                     verdict(flash, target), peer))

    mod_row("MQTT codec+session+client, 3.1.1 + 5 (mqtt_*.c)", full.get("mqtt"), 14000,
            "coreMQTT v5.0.2 (v5 only) 19,390 B; wolfMQTT v5 15,303 B + 1,080 B bss")
    mod_row("MQTT 3.1.1 only (-DMOTE_MQTT_V5=0)", v311.get("mqtt"), 6000, "coreMQTT v2.3.1 6,890 B")
    mod_row("MQTT, whole library incl. broker-side codec, 3.1.1 + 5", full_all.get("mqtt"), None,
            "(not needed by a device)")
    mod_row("MQTT, whole library incl. broker-side codec, 3.1.1 only", v311_all.get("mqtt"), None, "")
    mod_row("JSON (json*.c)", full.get("json"), 4000, "coreJSON validate+search+iterate 2,500 B")
    mod_row("JSON validate + path search + iteration only (coreJSON's set)", jsonscan.get("json"), None,
            "coreJSON validate+search+iterate 2,500 B")
    mod_row("JSON without double conversions (-DMOTE_JSON_DOUBLE=0)", nodouble.get("json"), None,
            "")
    mod_row("AWS IoT services (aws_*.c)", full.get("aws"), None, "")
    mod_row("Shared (error texts, other core files)", full.get("shared"), None, "")
    mod_row("newlib-nano/libgcc pulled in (memcpy, division, ...)", full.get("runtime"), None, "")
    mod_row("newlib-nano/libgcc pulled in, -DMOTE_JSON_DOUBLE=0", nodouble.get("runtime"), None, "")

    # RAM: client context
    for key, label in (("client_full", "sizeof(mote_mqtt_client_t), 3.1.1 + 5"),
                       ("client_v311", "sizeof(mote_mqtt_client_t), 3.1.1 only")):
        if key in sizeof:
            tgt = 128
            rows.append((label, "", "", "", fmt(sizeof[key]) + " B", "≤ 128 B", verdict(sizeof[key], tgt),
                         "coreMQTT v5 140 B"))

    # Stack per public call
    memo = {}
    per_call = {}
    for fn in sorted(public):
        if fn in nodes:
            per_call[fn] = worst_stack(fn, nodes, edges, memo, set())

    def note_text(notes):
        out = []
        if "recursion" in notes:
            out.append("recursion!")
        if "dynamic" in notes:
            out.append("dynamic frame!")
        if "callbacks" in notes:
            out.append("+ app callbacks")
        return ", ".join(out)

    def stack_row(label, fn, target, peer):
        if fn not in per_call:
            rows.append((label, "", "", "", "not built yet", ("≤ " + fmt(target) + " B") if target else "", "", peer))
            return
        b, notes = per_call[fn]
        extra = note_text(notes)
        rows.append((label, "", "", "", fmt(b) + " B" + (" (" + extra + ")" if extra else ""),
                     ("≤ " + fmt(target) + " B") if target else "", verdict(b, target), peer))

    stack_row("Stack, mote_mqtt_process (worst case)", "mote_mqtt_process", 256, "coreMQTT v5 364 B")
    mqtt_calls = {f: v for f, v in per_call.items() if f.startswith("mote_mqtt_")}
    json_calls = {f: v for f, v in per_call.items() if f.startswith("mote_json_")}
    if mqtt_calls:
        f = max(mqtt_calls, key=lambda k: mqtt_calls[k][0])
        stack_row("Stack, deepest MQTT call (" + f + ")", f, None, "")
    else:
        stack_row("Stack, deepest MQTT call", "-", None, "")
    if json_calls:
        f = max(json_calls, key=lambda k: json_calls[k][0])
        stack_row("Stack, deepest JSON call (" + f + ")", f, 256, "coreJSON search 368 B")
    else:
        stack_row("Stack, deepest JSON call", "-", 256, "coreJSON search 368 B")

    # Sample firmware image
    fw = os.path.join(bdir, "firmware.txt")
    if os.path.exists(fw):
        t, d, b = (int(x) for x in open(fw).read().split()[:3])
        rows.append(("Sample firmware image (examples/cortex-m4, whole)", fmt(t), fmt(d), fmt(b),
                     fmt(t + d) + " B flash", "", "", "MQTT + JSON as one app uses them"))

    # Static ARM tools
    cross = os.path.join(bdir, "cross.txt")
    targets = {"armhf": 600 * 1024, "armhf-minimal": 350 * 1024}
    with open(cross) as f:
        for line in f:
            label, path = line.split(None, 1)
            path = path.strip()
            tgt = targets.get(label)
            tgt_txt = ("≤ " + fmt(tgt // 1024) + " KB") if tgt else ""
            if os.path.exists(path):
                n = os.path.getsize(path)
                parts = ""
                if os.path.exists(path + ".map"):
                    parts = "text+data: " + breakdown(path + ".map")
                peer = "naive static glibc + Debian mbedTLS ≈ 900 KB" if label == "armhf" else ""
                rows.append(("Static stripped `mote`, " + label + " (" + path + ")", "", "", "",
                             kb(n), tgt_txt, verdict(n, tgt), "; ".join(x for x in (parts, peer) if x)))
            else:
                how = "`make cross MBEDTLS=minimal`" if "minimal" in label else "`make cross`"
                rows.append(("Static stripped `mote`, " + label, "", "", "", "not built (" + how + ")",
                             tgt_txt, "", ""))

    # JSON by capability: cumulative links (size.sh json_steps)
    steps_file = os.path.join(bdir, "full", "json-steps.txt")
    json_steps = ""
    if os.path.exists(steps_file):
        labels = {
            "validate": "validate (strict RFC 8259 and UTF-8; offset and reason)",
            "find": "+ path search (dotted paths and JSON Pointer, one pass)",
            "iterate": "+ iteration, member and element lookup",
            "reads": "+ int64, bool, null and string reads (unescaping)",
            "double_reads": "+ double reads (correctly rounded)",
            "writer": "+ writer (containers, keys, strings, int64, bool, null, raw)",
            "double_writes": "+ double writing (shortest round-trip text)",
            "texts": "+ reason texts (`mote_json_reason_text`)",
        }
        lines = ["| JSON capability (cumulative) | json*.c | added | newlib/libgcc |",
                 "|---|---:|---:|---:|"]
        prev = 0
        for name in open(steps_file).read().split():
            g = group(parse_map(os.path.join(bdir, "full", "json-" + name + ".map")))
            j = g.get("json", {"text": 0, "data": 0})
            r = g.get("runtime", {"text": 0, "data": 0})
            total = j["text"] + j["data"]
            lines.append("| %s | %s B | +%s | %s B |" % (labels.get(name, name), fmt(total),
                                                         fmt(total - prev), fmt(r["text"] + r["data"])))
            prev = total
        json_steps = ("\nWhat each JSON capability costs on Cortex-M4 (the same build; each row links "
                      "the public calls of its row and of the rows above, so a firmware pays only "
                      "for what it calls):\n\n" + "\n".join(lines) + "\n")

    header = ("| Figure | text | data | bss | Mote | Target | Met | Peer |\n"
              "|---|---:|---:|---:|---:|---:|:---:|---|\n")
    table = header + "".join("| " + " | ".join(r) + " |\n" for r in rows)
    calls = []
    for f in sorted(per_call):
        b, notes = per_call[f]
        extra = note_text(notes)
        calls.append("`%s` %d%s" % (f, b, (" (" + extra + ")") if extra else ""))
    stack_list = ("Worst-case stack per public call on Cortex-M4 (bytes, from `-fcallgraph-info=su`; "
                  "the application's callbacks and libc mem* leaves excluded): " +
                  (", ".join(calls) if calls else "no public functions built yet") + ".\n")
    path_memo = {}
    deep = []
    worst_json = max(json_calls, key=lambda k: json_calls[k][0]) if json_calls else None
    for fn in ("mote_mqtt_process", worst_json):
        if fn and fn in nodes:
            total, chain = deepest_path(fn, nodes, edges, path_memo)
            deep.append("`%s` %d B = %s" % (fn, total, " → ".join("%s %d" % c for c in chain)))
    if deep:
        stack_list += "\nDeepest paths (frame bytes per function): " + "; ".join(deep) + ".\n"
    text = ("Cortex-M4, `arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -DNDEBUG -ffunction-sections "
            "-fdata-sections`, linked like the sample firmware (newlib-nano, `--gc-sections`) with "
            "every public function of the device API kept: client, properties, topics, JSON, AWS "
            "helpers (the packet encoders/decoders only a broker needs are counted in the "
            "\"whole library\" rows). Text includes read-only data. Regenerated by `make size`."
            "\n\n" + table + json_steps + "\n" + stack_list)
    print(text)

    if readme:
        with open(readme) as f:
            body = f.read()
        if BEGIN in body and END in body:
            pre, rest = body.split(BEGIN, 1)
            _, post = rest.split(END, 1)
            with open(readme, "w") as f:
                f.write(pre + BEGIN + "\n" + text + END + post)
        else:
            print("size: %s has no %s ... %s block; not updated" % (readme, BEGIN, END), file=sys.stderr)


if __name__ == "__main__":
    main()
