"""Sum the text, rodata and data bytes that a GNU ld map file keeps from the mqtt_*.o
objects (after --gc-sections). Usage: map_size.py MAP"""
import re
import sys

text = open(sys.argv[1]).read()
text = text[text.index("Linker script and memory map"):]
total = 0
pattern = r"^ \.(text|rodata|data)(\.\S+)?\s*\n?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)$"
for m in re.finditer(pattern, text, re.M):
    if m.group(4).split("/")[-1].startswith("mqtt_"):
        total += int(m.group(3), 16)
print(total)
