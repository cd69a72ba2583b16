"""No import cycles in backend/: not between apps, not between files.

Imports inside functions count (a cycle hidden by a local import is still a cycle); migrations
are left out. The settings package (`loom`) wires the apps together and is no app, so it is left
out of the cycles between apps. Apps depend one way: tenancy <- catalog <- workflows <- dags <-
runs / deployments; a lower app that needs to hear from a higher one sends a signal the higher
one receives (catalog.signals.notebook_users, say).
"""
import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent / "backend"


def _modules() -> dict[str, Path]:
    found = {}
    for path in BACKEND.rglob("*.py"):
        rel = path.relative_to(BACKEND)
        if "migrations" not in rel.parts:
            found[".".join(rel.with_suffix("").parts).removesuffix(".__init__")] = path
    return found


def _imports() -> dict[str, set[str]]:
    """{module: the backend modules it imports}, an import of a name in a module counting as the module."""
    modules = _modules()
    apps = {m.split(".")[0] for m in modules}

    def known(name: str) -> str | None:
        parts = name.split(".")
        return next((".".join(parts[:i]) for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in modules), None)

    edges = {m: set() for m in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                names = [base] + [f"{base}.{a.name}" if base else a.name for a in node.names]
            else:
                continue
            for name in names:
                target = known(name) if name and name.split(".")[0] in apps else None
                if target and target != module:
                    edges[module].add(target)
    return edges


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan, iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def _describe(graph: dict[str, set[str]], components: list[list[str]]) -> list[str]:
    return [", ".join(c) + "  (" + "; ".join(f"{a} -> {b}" for a in c for b in sorted(graph.get(a, ())) if b in c) + ")"
            for c in components]


def test_the_walker_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_cycle_between_apps():
    wiring = {p.parent.name for p in BACKEND.glob("*/settings.py")}
    apps: dict[str, set[str]] = {}
    for module, targets in _imports().items():
        for target in targets:
            a, b = module.split(".")[0], target.split(".")[0]
            if a != b and not {a, b} & wiring:
                apps.setdefault(a, set()).add(b)
    found = _cycles(apps)
    assert not found, "apps in a cycle:\n" + "\n".join(_describe(apps, found))


def test_no_cycle_between_files():
    files = _imports()
    found = _cycles(files)
    assert not found, "files in a cycle:\n" + "\n".join(_describe(files, found))
