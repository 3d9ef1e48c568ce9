#!/usr/bin/env python3
"""Checks that po/POTFILES.in lists every file with translatable strings,
and nothing that does not exist."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
os.chdir(root)

C_MARKERS = re.compile(r"\b(?:_|N_|C_|NC_|Q_|ngettext|g_dngettext|g_dpgettext2)\s*\(")


def translatable(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".c"):
        return C_MARKERS.search(text) is not None
    if path.endswith(".ui"):
        return 'translatable="yes"' in text
    if path.endswith(".gschema.xml"):
        return "<summary>" in text or "<description>" in text
    if path.endswith(".desktop.in") or path.endswith(".metainfo.xml.in"):
        return True
    return False


candidates = []
for top in ("src", "ui", "data"):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if name.endswith((".c", ".ui", ".gschema.xml", ".desktop.in", ".metainfo.xml.in")):
                candidates.append(path)

listed = []
with open("po/POTFILES.in", encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith("#"):
            listed.append(line)

errors = []
for path in candidates:
    if translatable(path) and path not in listed:
        errors.append(f"{path} has translatable strings but is not in po/POTFILES.in")
for path in listed:
    if not os.path.exists(path):
        errors.append(f"po/POTFILES.in lists {path}, which does not exist")
if len(set(listed)) != len(listed):
    errors.append("po/POTFILES.in lists a file twice")

for e in errors:
    print(e)
print(f"{len(listed)} files listed, {len(errors)} problems")
sys.exit(1 if errors else 0)
