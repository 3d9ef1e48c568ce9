#!/usr/bin/env python3
"""Parses the Flatpak manifest and checks it against data/: the app ID, the
command, the GNOME runtime, libserialport as a module, serial device and
network access."""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

root = sys.argv[1]
errors = []

manifests = [n for n in os.listdir(os.path.join(root, "flatpak")) if n.endswith(".json")]
if len(manifests) != 1:
    print(f"flatpak/ should hold one .json manifest, holds {manifests}")
    sys.exit(1)
path = os.path.join(root, "flatpak", manifests[0])
with open(path, encoding="utf-8") as f:
    manifest = json.load(f)

metainfo = ET.parse(os.path.join(root, "data", "org.dacstation.Station.metainfo.xml.in")).getroot()
app_id = metainfo.findtext("id")
schema = ET.parse(os.path.join(root, "data", app_id + ".gschema.xml")).getroot()

manifest_id = manifest.get("app-id", manifest.get("id"))
if manifest_id != app_id:
    errors.append(f"app ID {manifest_id!r}, data/ says {app_id!r}")
if manifests[0] != app_id + ".json":
    errors.append(f"the manifest should be named {app_id}.json")
if not os.path.exists(os.path.join(root, "data", app_id + ".desktop.in")):
    errors.append(f"data/{app_id}.desktop.in is missing")
if app_id not in [s.get("id") for s in schema.iter("schema")]:
    errors.append(f"the GSettings schema has no {app_id}")
with open(os.path.join(root, "src", "gui", "meson.build"), encoding="utf-8") as f:
    executables = re.findall(r"executable\('([^']+)'", f.read())
if manifest.get("command") not in executables:
    errors.append(f"command {manifest.get('command')!r} is not built by src/gui ({executables})")
if manifest.get("runtime") != "org.gnome.Platform" or manifest.get("sdk") != "org.gnome.Sdk":
    errors.append("the runtime should be org.gnome.Platform with org.gnome.Sdk")
args = manifest.get("finish-args", [])
# --socket=cups: label printing talks to the host's CUPS scheduler.
for needed in ("--device=all", "--share=network", "--socket=cups"):
    if needed not in args:
        errors.append(f"finish-args lacks {needed}")
modules = manifest.get("modules", [])
names = [m.get("name") if isinstance(m, dict) else m for m in modules]
if "libserialport" not in names:
    errors.append("libserialport is not built as a module")
if not modules or not isinstance(modules[-1], dict) or modules[-1].get("buildsystem") != "meson":
    errors.append("the last module should be DAC Station itself, built with meson")
# Every library the build needs comes from the GNOME runtime or is a module.
RUNTIME = {"glib-2.0", "gio-2.0", "gio-unix-2.0", "gobject-2.0", "json-glib-1.0", "openssl", "sqlite3",
           "libcurl", "libsoup-3.0", "gtk+-3.0", "threads", "gmodule-2.0", "cairo", "pango",
           "gdk-pixbuf-2.0",
           # libcups: the freedesktop runtime under GNOME's has it (GTK prints with it)
           "cups"}
deps = set()
for dirpath, _, files in os.walk(root):
    if "/build" in dirpath or "/." in dirpath:
        continue
    if "meson.build" in files:
        with open(os.path.join(dirpath, "meson.build"), encoding="utf-8") as f:
            deps.update(re.findall(r"dependency\('([^']+)'", f.read()))
for dep in sorted(deps - RUNTIME):
    if dep not in names:
        errors.append(f"the build needs {dep}, which the GNOME runtime lacks and no module builds")
for m in modules:
    if isinstance(m, dict) and not m.get("sources"):
        errors.append(f"module {m.get('name')} has no sources")

for e in errors:
    print(e)
print(f"{path}: {len(errors)} problems")
sys.exit(1 if errors else 0)
