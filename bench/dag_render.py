"""Benchmark: render the DAG file of a 1,000-node workflow (target <= 200 ms).

    .venv/bin/python bench/dag_render.py

Times what the API does after loading the version: build the context, read the runtime
sources, render the template. The first render (template compilation) is reported apart.
"""
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from dags.rendering import PinnedNotebook, dag_context, dag_render, runtime_sources  # noqa: E402
from workflows.graph import graph_normalize  # noqa: E402

NODES, TARGET_MS, RUNS = 1000, 200, 20


def workflow(n: int) -> dict:
    """A layered workflow: each node feeds the next, every 10th also fans in from 10 back,
    every 50th fans out over a workflow parameter."""
    nodes, edges = [], []
    for i in range(n):
        node = {"id": f"n{i}", "label": f"Step {i}", "notebook": "step.ipynb", "parameters": {"y": i},
                "outputs": ["out"], "retries": i % 3, "timeout_s": 600, "pool": "heavy" if i % 7 == 0 else None}
        if i % 50 == 25:
            node.update(map_over="items", map_parameter="y", max_active=4)
        nodes.append(node)
        if i:
            edges.append({"source": f"n{i - 1}", "target": f"n{i}", "bind": {"out": "x"}})
        if i >= 10 and i % 10 == 0:
            edges.append({"source": f"n{i - 10}", "target": f"n{i}", "bind": {}})
    return {"name": f"{n} steps", "schedule": "@daily", "parameters": [{"name": "items", "type": "list", "default": [1, 2, 3]}],
            "nodes": nodes, "edges": edges}


def render(graph: dict) -> str:
    context = dag_context(graph=graph_normalize(graph), tenant="bench", workflow_id=1, version=1,
                          notebooks={"step.ipynb": PinnedNotebook("0" * 64, ("x", "y"))}, runtime=runtime_sources())
    return dag_render(context)


def main() -> None:
    graph = workflow(NODES)
    start = time.perf_counter()
    source = render(graph)
    first = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        render(graph)
        times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    print(f"render {NODES}-node workflow ({len(graph['edges'])} edges, {len(source):,} bytes, {source.count(chr(10)):,} lines)")
    print(f"  first render (compiles the template): {first:.1f} ms")
    print(f"  median of {RUNS}: {median:.1f} ms (min {min(times):.1f}, max {max(times):.1f})")
    print(f"  target {TARGET_MS} ms: {median / TARGET_MS:.2f}x of target")


if __name__ == "__main__":
    main()
