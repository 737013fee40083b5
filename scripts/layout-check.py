#!/usr/bin/env python3
# A copy of the project's shared layout check (shared/tools/layout-check.py), run by .ci/run so the
# rules hold on every clean clone: no import cycles between source files, no source file over
# 500 lines, no test file over 800.
"""Layout check for a Cargo workspace: import cycles between source files and file sizes.

    python3 ../shared/tools/layout-check.py [REPO] [--max-src 500] [--max-test 800]

A file's imports are its `use crate::...` / `crate::...` paths and its `super::` paths, mapped to the
file that defines that module. A child module file that uses its parent (mod.rs / lib.rs) is normal Rust
and is not counted; everything else that forms a circle is printed. Test files (tests/, tests.rs,
benches/, fuzz/) are exempt from cycles and held to --max-test lines. Exit status 1 when a rule is broken.
"""
import os, re, sys, argparse

ap = argparse.ArgumentParser()
ap.add_argument('repo', nargs='?', default='.')
ap.add_argument('--max-src', type=int, default=500)
ap.add_argument('--max-test', type=int, default=800)
a = ap.parse_args()
root = os.path.abspath(a.repo)

def is_test(rel):
    parts = rel.split(os.sep)
    return ('tests' in parts or 'benches' in parts or 'fuzz' in parts or 'examples' in parts
            or parts[-1] == 'tests.rs' or 'target' in parts)

def module_path(src_dir, f):
    rel = os.path.relpath(f, src_dir)[:-3].split(os.sep)
    if rel[-1] in ('lib', 'main', 'mod'):
        rel = rel[:-1]
    if rel and rel[0] == 'bin':
        return None
    return tuple(rel)

crates = []
for dp, dn, fn in os.walk(root):
    dn[:] = [d for d in dn if d not in ('target', '.git', 'node_modules', '.venv')]
    if 'Cargo.toml' in fn and os.path.isdir(os.path.join(dp, 'src')):
        crates.append(os.path.join(dp, 'src'))

problems = []
for src in sorted(crates):
    files = {}
    for dp, dn, fn in os.walk(src):
        for f in fn:
            if f.endswith('.rs'):
                p = os.path.join(dp, f)
                files[p] = module_path(src, p)
    mods = {m: p for p, m in files.items() if m is not None}
    def resolve(path):
        for k in range(len(path), -1, -1):
            if tuple(path[:k]) in mods:
                return mods[tuple(path[:k])]
        return None
    edges = {}
    for p, m in files.items():
        if m is None or is_test(os.path.relpath(p, root)):
            continue
        text = open(p, encoding='utf-8', errors='replace').read()
        text = re.sub(r'#\[cfg\(test\)\]\s*mod\s+\w+\s*\{.*', '', text, flags=re.S)  # inline tests at the end
        targets = set()
        own = m if os.path.basename(p) in ('mod.rs', 'lib.rs', 'main.rs') else m[:-1]
        for mt in re.finditer(r'\bcrate((?:::\w+)+)', text):
            targets.add(resolve(list(mt.group(1).split('::')[1:])))
        for mt in re.finditer(r'\b((?:super::)+)((?:\w+::)*\w+)', text):
            up = mt.group(1).count('super::')
            base = list(own[:len(own) - up + 0]) if up <= len(own) else []
            base = list(own)[:max(0, len(own) - up)]
            if up == 1 and os.path.basename(p) not in ('mod.rs', 'lib.rs', 'main.rs'):
                base = list(m[:-1])
            targets.add(resolve(base + mt.group(2).split('::')))
        for t in targets:
            if not t or t == p or is_test(os.path.relpath(t, root)):
                continue
            tm = files[t]
            # a child using its parent (or any ancestor) module file is normal Rust
            if tm is not None and len(tm) < len(m) and m[:len(tm)] == tm:
                continue
            edges.setdefault(p, set()).add(t)
    # cycles: strongly connected components with more than one file
    index, low, stack, on, out = {}, {}, [], set(), []
    def sc(v, c=[0]):
        index[v] = low[v] = c[0]; c[0] += 1; stack.append(v); on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                sc(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(comp)
    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index: sc(v)
    for comp in out:
        problems.append('import cycle: ' + ' <-> '.join(sorted(os.path.relpath(c, root) for c in comp)))

for dp, dn, fn in os.walk(root):
    dn[:] = [d for d in dn if d not in ('target', '.git', 'node_modules', '.venv', 'corpus', 'artifacts')]
    for f in fn:
        if not f.endswith('.rs'):
            continue
        p = os.path.join(dp, f); rel = os.path.relpath(p, root)
        n = sum(1 for _ in open(p, encoding='utf-8', errors='replace'))
        limit = a.max_test if is_test(rel) else a.max_src
        if n > limit:
            problems.append(f'{rel}: {n} lines (limit {limit} for {"test" if is_test(rel) else "source"} files)')

for pr in problems:
    print(pr)
print(f'{len(problems)} layout problems')
sys.exit(1 if problems else 0)
