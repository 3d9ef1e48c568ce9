#!/usr/bin/env python3
"""Checks the layers of src/ (docs/architecture.md, "Layers").

Reads every #include "..." in src/lib, src/cli, src/gui, src/sim and
src/firmware and fails, saying why, when:

- the units include each other in a cycle (a unit is a .c file with its .h
  and its -private.h: ds-cd.c, ds-cd.h and ds-cd-private.h are one unit),
  or the library's subsystem folders do (src/lib/base, src/lib/ca, ...;
  the files at the top of src/lib count as one folder above them);
- a layer includes one it must not: the library includes only itself, the
  firmware only itself, the CLI and the GUI only themselves and the
  library's public headers, the simulator itself, those and the firmware;
- a front end (or the simulator, or a public library header) includes a
  library-private header: one that is not in libds_public_headers in
  src/lib/meson.build (a *-private.h never is);
- libds_public_headers lists a header that does not exist or a -private.h;
- the library includes GTK.

Usage: check-includes.py SOURCE_ROOT
"""

import os
import re
import sys

LAYERS = ('lib', 'cli', 'gui', 'sim', 'firmware')
# The layers each layer may include, besides itself.
ALLOWED = {
    'lib': set(),
    'firmware': set(),
    'cli': {'lib'},
    'gui': {'lib'},
    'sim': {'lib', 'firmware'},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SYSTEM_INCLUDE = re.compile(r'^\s*#\s*include\s+<([^>]+)>')


def layer_of(rel):
    parts = rel.split('/')
    return parts[1] if len(parts) > 2 and parts[0] == 'src' and parts[1] in LAYERS else None


def unit_of(rel):
    stem = os.path.splitext(rel)[0]
    return stem[:-len('-private')] if stem.endswith('-private') else stem


def is_private(rel):
    return rel.endswith('-private.h')


def public_headers(root):
    """The file names listed in libds_public_headers, or None."""
    path = os.path.join(root, 'src', 'lib', 'meson.build')
    with open(path, encoding='utf-8') as f:
        text = f.read()
    m = re.search(r'libds_public_headers\s*=\s*files\s*\((.*?)\)', text, re.S)
    if m is None:
        return None
    body = re.sub(r'#[^\n]*', '', m.group(1))
    return {os.path.normpath(os.path.join('src', 'lib', name))
            for name in re.findall(r"'([^']+)'", body)}


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else '.')
    files = []
    for layer in LAYERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, 'src', layer)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
            for name in sorted(filenames):
                if name.endswith(('.c', '.h')):
                    files.append(os.path.relpath(os.path.join(dirpath, name), root))
    known = set(files)
    by_name = {}
    for rel in files:
        by_name.setdefault(os.path.basename(rel), []).append(rel)

    def resolve(src, name):
        """The file @src means by #include "@name", or None (not in src/)."""
        local = os.path.normpath(os.path.join(os.path.dirname(src), name))
        if local in known:
            return local
        candidates = [rel for rel in by_name.get(os.path.basename(name), [])
                      if rel == name or rel.endswith('/' + name)]
        same_layer = [rel for rel in candidates if layer_of(rel) == layer_of(src)]
        for group in (same_layer, candidates):
            if len(group) == 1:
                return group[0]
            if len(group) > 1:
                problems.append('%s: #include "%s" is ambiguous: %s' % (src, name, ', '.join(group)))
                return group[0]
        return None

    problems = []
    public = public_headers(root)
    lib_headers = {rel for rel in files if layer_of(rel) == 'lib' and rel.endswith('.h')}
    if public is None:
        problems.append('src/lib/meson.build: no libds_public_headers = files(...) list')
        public = {rel for rel in lib_headers if not is_private(rel)}
    elif not public:
        problems.append('src/lib/meson.build: libds_public_headers lists no header')
    for rel in sorted(public):
        if rel not in lib_headers:
            problems.append('src/lib/meson.build: libds_public_headers lists %s, which does not exist' % rel)
        elif is_private(rel):
            problems.append('src/lib/meson.build: libds_public_headers lists the private header %s' % rel)

    edges = {}   # unit -> {unit: "file:line"}
    folders = {}  # folder of src/lib -> {folder: "file:line"}
    for rel in files:
        src_layer = layer_of(rel)
        with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
            for lineno, line in enumerate(f, 1):
                where = '%s:%d' % (rel, lineno)
                m = SYSTEM_INCLUDE.match(line)
                if m and src_layer == 'lib' and m.group(1).startswith(('gtk/', 'gdk/')):
                    problems.append('%s: the library includes <%s>; it has no GTK' % (where, m.group(1)))
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = resolve(rel, m.group(1))
                if target is None:
                    continue
                dst_layer = layer_of(target)
                if dst_layer != src_layer and dst_layer not in ALLOWED[src_layer]:
                    problems.append('%s: src/%s includes %s from src/%s, a layer above or beside it'
                                    % (where, src_layer, target, dst_layer))
                elif dst_layer == 'lib' and target not in public and \
                        (src_layer != 'lib' or (rel in public)):
                    who = 'the public header %s' % rel if src_layer == 'lib' else 'src/%s' % src_layer
                    problems.append('%s: %s includes the library-private header %s'
                                    % (where, who, target))
                a, b = unit_of(rel), unit_of(target)
                if a != b:
                    edges.setdefault(a, {}).setdefault(b, where)
                if src_layer == 'lib' and dst_layer == 'lib':
                    a, b = os.path.dirname(rel), os.path.dirname(target)
                    if a != b:
                        folders.setdefault(a, {}).setdefault(b, where)

    for kind, graph in (('include cycle', edges), ('include cycle between the library\'s folders', folders)):
        for cycle in find_cycles(graph):
            steps = ['%s  (%s)' % (cycle[i], graph[cycle[i]][cycle[i + 1]]) for i in range(len(cycle) - 1)]
            problems.append(kind + ':\n    ' + '\n    -> '.join(steps) + '\n    -> ' + cycle[-1])

    for problem in problems:
        print(problem)
    if problems:
        print('%d problem(s); docs/architecture.md says which includes are allowed' % len(problems))
        return 1
    print('%d files: no include cycle, layers respected' % len(files))
    return 0


def find_cycles(edges):
    """One cycle (a list of units ending where it starts) for every strongly
    connected component with more than one unit (Tarjan)."""
    index = {}
    low = {}
    stack = []
    on_stack = set()
    components = []
    counter = [0]

    def strongconnect(v):
        # Iterative, so that deep include chains do not hit the recursion limit.
        work = [(v, iter(sorted(edges.get(v, {}))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            advanced = False
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, {})))))
                    advanced = True
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == node:
                        break
                if len(component) > 1:
                    components.append(set(component))

    for v in sorted(edges):
        if v not in index:
            strongconnect(v)

    cycles = []
    for component in components:
        start = min(component)
        # Breadth-first from start back to start, inside the component.
        parent = {start: None}
        queue = [start]
        end = None
        while queue and end is None:
            node = queue.pop(0)
            for w in sorted(edges.get(node, {})):
                if w not in component:
                    continue
                if w == start:
                    end = node
                    break
                if w not in parent:
                    parent[w] = node
                    queue.append(w)
        path = [start]
        node = end
        while node is not None and node != start:
            path.append(node)
            node = parent[node]
        cycles.append([start] + list(reversed(path[1:])) + [start])
    return cycles


if __name__ == '__main__':
    sys.exit(main())
