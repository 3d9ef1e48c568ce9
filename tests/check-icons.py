#!/usr/bin/env python3
"""Checks the application icons: a 128-pixel scalable icon and a 16-pixel
symbolic one named after the app ID, the symbolic one in the one colour
GTK recolours, and the desktop file pointing at them."""
import os
import re
import sys
import xml.etree.ElementTree as ET

root = sys.argv[1]
app_id = "org.dacstation.Station"
SVG = "{http://www.w3.org/2000/svg}"
errors = []


def check(path, size, symbolic):
    if not os.path.exists(path):
        errors.append(f"{path} is missing")
        return
    try:
        svg = ET.parse(path).getroot()
    except ET.ParseError as e:
        errors.append(f"{path}: not XML: {e}")
        return
    if svg.tag != SVG + "svg":
        errors.append(f"{path}: the root element is not <svg>")
    if svg.get("width") != str(size) or svg.get("height") != str(size):
        errors.append(f"{path}: should be {size}x{size}, is {svg.get('width')}x{svg.get('height')}")
    if svg.get("viewBox") != f"0 0 {size} {size}":
        errors.append(f"{path}: the viewBox should be 0 0 {size} {size}")
    colours = set()
    for el in svg.iter():
        for attr in ("fill", "stroke"):
            v = el.get(attr)
            if v and v != "none":
                colours.add(v.lower())
        if el.tag in (SVG + "image", SVG + "script"):
            errors.append(f"{path}: embeds <{el.tag[len(SVG):]}>")
        if symbolic and el.tag in (SVG + "linearGradient", SVG + "radialGradient"):
            errors.append(f"{path}: a symbolic icon has no gradients")
    if symbolic and colours - {"#2e3436"}:
        errors.append(f"{path}: a symbolic icon is drawn in #2e3436 only, not {sorted(colours)}")
    if not symbolic and len(colours) < 2:
        errors.append(f"{path}: a full-colour icon with {len(colours)} colour(s)")


check(os.path.join(root, "data/icons/hicolor/scalable/apps", app_id + ".svg"), 128, False)
check(os.path.join(root, "data/icons/hicolor/symbolic/apps", app_id + "-symbolic.svg"), 16, True)

with open(os.path.join(root, "data", app_id + ".desktop.in"), encoding="utf-8") as f:
    m = re.search(r"^Icon=(.*)$", f.read(), re.M)
if not m or m.group(1) != app_id:
    errors.append(f"the desktop file's Icon= should be {app_id}")

for e in errors:
    print(e)
print(f"icons: {len(errors)} problems")
sys.exit(1 if errors else 0)
