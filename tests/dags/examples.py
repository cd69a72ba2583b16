"""Representative workflows and the small notebooks they run, shared by the DAG tests.

The golden files in golden/ are these workflows rendered; the real-Airflow tests run them.
"""
import hashlib
from functools import cache
from pathlib import Path

from catalog.inspection import InspectedNotebook, notebook_read
from dags.rendering import RUNTIME_FILES, PinnedNotebook, dag_context, dag_render, runtime_sources
from helpers import notebook_bytes
from workflows.graph import graph_normalize

TENANT = "acme"
GOLDEN_DIR = Path(__file__).parent / "golden"
# Golden files carry these placeholders instead of backend/runtime's source, so that they
# stay short and do not change whenever the runtime does (test_api checks the real thing).
STUB_RUNTIME = {name: f"# backend/{name}, verbatim\n" for name in RUNTIME_FILES}
# What the Airflow tests store as tenant acme's `warehouse` connection.
WAREHOUSE_URI = "postgres://loom_reader:s3cret-pw@db.example:5432/sales"
JINJA_TEXT = "{{ var.value.secret }} {{ conn.other_tenant__db.password }} {% if 1 %}x{% endif %}"

NOTEBOOKS = {
    "extract.ipynb": notebook_bytes(
        "seed: int = 1\nquery = 'select 1'",
        "import os, urllib.parse\n"
        "rows = [seed, seed + 1, seed + 2]\n"
        "dsn_user = urllib.parse.urlsplit(os.environ.get('LOOM_CONN_WAREHOUSE_URI', '')).username\n"
        "print('password', os.environ.get('LOOM_CONN_WAREHOUSE_PASSWORD'))",
    ),
    "transform.ipynb": notebook_bytes(
        "rows = []\nfactor: int = 1\nnote = ''",
        "total = sum(rows) * factor\necho = note",
    ),
    "load.ipynb": notebook_bytes(
        "total: int = 0\nrun_date = ''\ngreeting = ''\nartifacts_dir = '.'",
        "import os\n"
        "summary = f'{run_date}: {total}'\n"
        "path = os.path.join(artifacts_dir, 'summary.txt')\n"
        "open(path, 'w').write(summary + '\\n' + greeting)",
    ),
    "step.ipynb": notebook_bytes("x: int = 0\ny: int = 0", "out = x + y"),
    "sizes.ipynb": notebook_bytes("n: int = 3", "sizes = list(range(1, n + 1))"),
    "score.ipynb": notebook_bytes("account = ''\nsize: int = 1", "score = len(account) * size\nwho = account"),
    "collect.ipynb": notebook_bytes(
        "values = []\nnames = []\nscaled = []", "total = sum(values)\nseen = names\nscaled_total = sum(scaled)"
    ),
    "fail.ipynb": notebook_bytes("message = 'boom'", "raise RuntimeError(message)"),
    "daily.ipynb": notebook_bytes(
        "run_date = ''\nlimit: int = 10\nratio: float = 0.5\ndry_run: bool = False\nregions = []\nopts = {}\nnote = ''"
    ),
}

WORKFLOWS = {
    # Values flow down a chain; a connection reaches the kernel; Jinja-looking text stays text.
    "chain": {
        "name": "Sales chain",
        "description": "Extract, transform and load the day's sales.",
        "parameters": [
            {"name": "run_date", "type": "str", "default": "2026-01-01", "help": "The day to load"},
            {"name": "factor", "type": "int", "default": 2},
            {"name": "greeting", "type": "str", "default": JINJA_TEXT},
        ],
        "nodes": [
            {"id": "extract", "notebook": "extract.ipynb", "parameters": {"seed": 5}, "outputs": ["rows", "dsn_user"],
             "connections": ["warehouse"]},
            {"id": "transform", "label": "Transform 'sales'", "notebook": "transform.ipynb",
             "parameters": {"note": JINJA_TEXT}, "outputs": ["total", "echo"]},
            {"id": "load", "notebook": "load.ipynb", "outputs": ["summary", "path"]},
        ],
        "edges": [
            {"source": "extract", "target": "transform", "bind": {"rows": "rows"}},
            {"source": "transform", "target": "load", "bind": {"total": "total"}},
        ],
    },
    # Two branches from one node meet again.
    "diamond": {
        "name": "Diamond",
        "nodes": [
            {"id": "source", "notebook": "step.ipynb", "parameters": {"x": 1}, "outputs": ["out"]},
            {"id": "left", "notebook": "step.ipynb", "parameters": {"y": 10}, "outputs": ["out"]},
            {"id": "right", "notebook": "step.ipynb", "parameters": {"y": 100}, "outputs": ["out"]},
            {"id": "join", "notebook": "step.ipynb", "outputs": ["out"]},
        ],
        "edges": [
            {"source": "source", "target": "left", "bind": {"out": "x"}},
            {"source": "source", "target": "right", "bind": {"out": "x"}},
            {"source": "left", "target": "join", "bind": {"out": "x"}},
            {"source": "right", "target": "join", "bind": {"out": "y"}},
        ],
    },
    # One run per account (a workflow parameter) and one per size (an upstream output).
    "fanout": {
        "name": "Score per account",
        "parameters": [{"name": "accounts", "type": "list", "default": ["acme", JINJA_TEXT, "globex"]}],
        "nodes": [
            {"id": "score", "notebook": "score.ipynb", "map_over": "accounts", "map_parameter": "account",
             "max_active": 2, "max_failed_ratio": 0.5, "outputs": ["score", "who"]},
            {"id": "sizes", "notebook": "sizes.ipynb", "outputs": [{"name": "sizes", "type": "list"}]},
            {"id": "scale", "notebook": "score.ipynb", "map_over": "sizes.sizes", "map_parameter": "size",
             "parameters": {"account": "ab"}, "outputs": ["score"]},
            {"id": "collect", "notebook": "collect.ipynb", "outputs": ["total", "seen", "scaled_total"]},
        ],
        "edges": [
            {"source": "sizes", "target": "scale", "bind": {}},
            {"source": "score", "target": "collect", "bind": {"score": "values", "who": "names"}},
            {"source": "scale", "target": "collect", "bind": {"score": "scaled"}},
        ],
    },
    # A failing node; what runs after it depends on trigger rules. Pools, queues, retries.
    "trigger_rules": {
        "name": "Trigger rules",
        "nodes": [
            {"id": "boom", "notebook": "fail.ipynb", "parameters": {"message": "expected failure"}},
            {"id": "cleanup", "notebook": "step.ipynb", "parameters": {"x": 7}, "outputs": ["out"],
             "trigger_rule": "all_done", "retries": 2, "retry_delay_s": 30, "timeout_s": 300, "pool": "heavy"},
            {"id": "on_failure", "label": "Alert on failure", "notebook": "step.ipynb", "outputs": ["out"],
             "trigger_rule": "one_failed", "queue": "alerts"},
            {"id": "after_success", "notebook": "step.ipynb", "outputs": ["out"]},
        ],
        "edges": [
            {"source": "boom", "target": "cleanup", "bind": {}},
            {"source": "boom", "target": "on_failure", "bind": {}},
            {"source": "boom", "target": "after_success", "bind": {}},
        ],
    },
    # A schedule, catch-up, tags and a parameter of every type.
    "schedule": {
        "name": "Weekday report",
        "description": "Runs at 06:00 on weekdays.\nCatches up on missed days.",
        "schedule": "0 6 * * 1-5",
        "start_date": "2025-06-02",
        "catchup": True,
        "tags": ["finance", "nightly"],
        "parameters": [
            {"name": "run_date", "type": "str", "default": "2025-06-02"},
            {"name": "limit", "type": "int", "default": 100},
            {"name": "ratio", "type": "float", "default": 0.25},
            {"name": "dry_run", "type": "bool", "default": True},
            {"name": "regions", "type": "list", "default": ["emea", "apac"]},
            {"name": "opts", "type": "dict", "default": {"mode": "fast", "depth": 2}},
            {"name": "note", "type": "str", "default": None, "help": "Optional remark"},
        ],
        "nodes": [{"id": "report", "notebook": "daily.ipynb"}],
        "edges": [],
    },
}

WORKFLOW_IDS = {name: i for i, name in enumerate(WORKFLOWS, start=1)}


@cache
def inspected(name: str) -> InspectedNotebook:
    return notebook_read(NOTEBOOKS[name], max_bytes=10**6)


def pinned(name: str, *, golden: bool) -> PinnedNotebook:
    """The pin of a notebook; golden files use a hash of its name, so that they do not change
    with nbformat's serialization, while real runs need the real content hash."""
    nb = inspected(name)
    sha = hashlib.sha256(name.encode()).hexdigest() if golden else nb.sha256
    return PinnedNotebook(sha256=sha, parameters=tuple(p.name for p in nb.parameters))


def example_context(name: str, *, golden: bool) -> dict:
    graph = WORKFLOWS[name]
    notebooks = {n["notebook"]: pinned(n["notebook"], golden=golden) for n in graph["nodes"]}
    return dag_context(
        graph=graph_normalize(graph), tenant=TENANT, workflow_id=WORKFLOW_IDS[name], version=3, notebooks=notebooks,
        runtime=STUB_RUNTIME if golden else runtime_sources(),
    )


def example_source(name: str, *, golden: bool) -> str:
    return dag_render(example_context(name, golden=golden))


def example_dag_id(name: str) -> str:
    return example_context(name, golden=True)["dag_id"]


def notebook_files() -> dict[str, str]:
    """{path under the notebooks base directory: content}, as a deploy would write them."""
    return {f"{TENANT}/{inspected(name).sha256}/{name}": inspected(name).content for name in NOTEBOOKS}
