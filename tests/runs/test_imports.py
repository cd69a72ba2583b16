"""The engines' import structure stays acyclic: deployments never imports runs (runs depends on
deployments, and hears from it through signals), and no file of runs imports, even inside a
function, a file that leads back to it."""
import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"


def _imports() -> dict[str, set[str]]:
    """{module: modules of backend/ it imports}, imports inside functions included; migrations left out."""
    files = {}
    for path in BACKEND.rglob("*.py"):
        rel = path.relative_to(BACKEND)
        if "migrations" not in rel.parts:
            files[".".join(rel.with_suffix("").parts).removesuffix(".__init__")] = path

    def known(name: str) -> str | None:
        parts = name.split(".")
        return next((".".join(parts[:i]) for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in files), None)

    edges = {}
    for mod, path in files.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {known(a.name) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found |= {known(f"{node.module}.{a.name}") for a in node.names} | {known(node.module)}
        edges[mod] = {m for m in found if m and m != mod}
    return edges


def _reaches(edges: dict, start: str, goal: str) -> bool:
    seen, todo = set(), list(edges[start])
    while todo:
        mod = todo.pop()
        if mod == goal:
            return True
        if mod not in seen:
            seen.add(mod)
            todo += edges.get(mod, ())
    return False


def test_deployments_imports_nothing_of_runs():
    edges = _imports()
    assert {(m, t) for m, ts in edges.items() if m.startswith("deployments") for t in ts if t.startswith("runs")} == set()


def test_no_file_of_runs_or_deployments_is_in_an_import_cycle():
    edges = _imports()
    cyclic = sorted(m for m in edges if m.startswith(("runs", "deployments")) and _reaches(edges, m, m))
    assert cyclic == []
