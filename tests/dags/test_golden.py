"""The representative workflows render byte for byte as reviewed in golden/.

After an intended change to the template or the context, regenerate and review the diff:
    LOOM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/dags/test_golden.py
"""
import ast
import os

import pytest

from tests.dags.examples import GOLDEN_DIR, WORKFLOWS, example_source, inspected
from workflows.validation import graph_validate


@pytest.mark.parametrize("name", WORKFLOWS)
def test_example_is_valid(name):
    graph = WORKFLOWS[name]
    signatures = {n["notebook"]: inspected(n["notebook"]).parameters_json() for n in graph["nodes"]}
    assert graph_validate(graph, notebooks=signatures, connections=["warehouse"]) == []


@pytest.mark.parametrize("name", WORKFLOWS)
def test_render_matches_golden(name):
    source = example_source(name, golden=True)
    path = GOLDEN_DIR / f"{name}.py"
    if os.environ.get("LOOM_UPDATE_GOLDEN"):
        path.write_text(source, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with LOOM_UPDATE_GOLDEN=1 to create it"
    assert source == path.read_text(encoding="utf-8"), f"{name} renders differently from {path}"
    ast.parse(source)


@pytest.mark.parametrize("name", WORKFLOWS)
def test_render_is_deterministic(name):
    assert example_source(name, golden=False) == example_source(name, golden=False)
