"""Property tests: whatever users type, the DAG file parses, keeps its shape and carries the
values exactly. Node ids, labels, descriptions, parameter names and values, tags, pools and
queues get arbitrary unicode, quotes, triple quotes, backslashes, newlines, `{{ }}`,
`{% %}` and fragments of Python code.
"""
import ast
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dags.literals import Literal, _flat, py_literal
from dags.rendering import RUNTIME_FILES, PinnedNotebook, dag_context, dag_render
from workflows.graph import IDENTIFIER, TRIGGER_RULES, graph_normalize

PROPERTY_SETTINGS = settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NASTY = [
    "'", '"', "'''", '"""', "\\", "\\'", "'\\", "\n", "\r\n", "\t", "\x00", "\u2028", "\ufeff", "\ud800",
    "{{ var.value.secret }}", "{{ conn.other_tenant__db.password }}", "{% raw %}", "{% endraw %}", "{#", "#}",
    "__import__('os').system('id')", "')\nimport os\nos.system('id')\n#", "'''+__import__('os').getcwd()+'''",
    "\"\"\"\nraise SystemExit\n\"\"\"", "# comment", "\\\n", "${HOME}", "é", "🙂",
]
text = st.one_of(
    st.text(st.characters(codec=None), max_size=30),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=5)), max_size=6).map("".join),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)
identifiers = st.from_regex(IDENTIFIER, fullmatch=True).filter(lambda s: len(s) <= 20)
TYPE_OF = {"str": text, "int": st.integers(), "float": st.floats(allow_nan=False, allow_infinity=False),
           "bool": st.booleans(), "list": st.lists(json_values, max_size=3),
           "dict": st.dictionaries(text, json_values, max_size=3)}


@st.composite
def graphs(draw):
    """A graph with arbitrary text wherever a user types text, and a valid shape around it."""
    ids = draw(st.lists(identifiers, min_size=1, max_size=4, unique=True))
    globals_ = []
    for name in draw(st.lists(text, max_size=3, unique=True)):
        kind = draw(st.sampled_from(sorted(TYPE_OF)))
        globals_.append({"name": name, "type": kind, "default": draw(st.none() | TYPE_OF[kind]), "help": draw(text)})
    list_globals = [g["name"] for g in globals_ if g["type"] == "list"]
    nodes, edges = [], []
    for i, nid in enumerate(ids):
        outputs = draw(st.lists(text, max_size=3, unique=True))
        node = {
            "id": nid, "label": draw(text), "description": draw(text),
            "notebook": draw(st.sampled_from(["a.ipynb", "b-1.ipynb"])),
            "parameters": draw(st.dictionaries(text, json_values, max_size=3)),
            "outputs": outputs,
            "retries": draw(st.integers(0, 100)), "retry_delay_s": draw(st.integers(0, 86400)),
            "timeout_s": draw(st.none() | st.integers(1, 10**6)),
            "trigger_rule": draw(st.sampled_from(TRIGGER_RULES)),
            "pool": draw(st.none() | text), "queue": draw(st.none() | text),
            "max_active": draw(st.none() | st.integers(1, 1000)),
            "connections": draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), max_size=2)),
        }
        upstream = draw(st.lists(st.sampled_from(ids[:i]), unique=True)) if i else []
        for source in upstream:
            edges.append({"source": source, "target": nid, "bind": draw(st.dictionaries(text, text, max_size=2))})
        over = draw(st.sampled_from([None, *list_globals, *(f"{s}.{o}" for s in upstream for o in outputs)]))
        if over:
            node["map_over"], node["map_parameter"] = over, draw(st.none() | text)
        nodes.append(node)
    return {
        "name": draw(text), "description": draw(text),
        "schedule": draw(st.sampled_from([None, "@daily", "@continuous", "*/5 * * * *"])),
        "start_date": draw(st.dates()).isoformat(), "catchup": draw(st.booleans()),
        "tags": draw(st.lists(text, max_size=3)), "parameters": globals_, "nodes": nodes, "edges": edges,
    }


notebooks = st.fixed_dictionaries({
    "a.ipynb": st.builds(PinnedNotebook, st.just("0" * 64), st.lists(text, max_size=4).map(tuple)),
    "b-1.ipynb": st.builds(PinnedNotebook, st.just("f" * 64), st.lists(text, max_size=4).map(tuple)),
})


def _context(graph, pins, runtime):
    return dag_context(graph=graph_normalize(graph), tenant="acme-1", workflow_id=42, version=7, notebooks=pins, runtime=runtime)


def _placeholder(value, indent=0, one_line=False):
    """Prints each value's shape with no user text in it at all: every string is 's'."""
    if isinstance(value, str):
        return Literal("'s'")
    if isinstance(value, (list, tuple)):
        return Literal("[" + ", ".join(_placeholder(v) for v in value) + "]")
    if isinstance(value, dict):
        return Literal("{" + ", ".join(f"{_placeholder(k)}: {_placeholder(v)}" for k, v in value.items()) + "}")
    return Literal(_flat(value))


def _skeleton(source: str) -> str:
    """The file's syntax tree with every constant blanked: its statements and expressions."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            node.value, node.kind = None, None
    return ast.dump(tree)


def _kwargs(call: ast.Call) -> dict:
    """The keyword arguments of a call that are literals (not `params`, `retry_delay`, ...)."""
    found = {}
    for k in call.keywords:
        try:
            found[k.arg] = ast.literal_eval(k.value)
        except ValueError:
            pass
    return found


def _read_back(source: str) -> dict:
    """The values a DAG file carries, read from its syntax tree (nothing is executed)."""
    tree = ast.parse(source)
    found = {"tasks": {}, "params": {}}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
            found[stmt.targets[0].id] = ast.literal_eval(stmt.value)
        if isinstance(stmt, ast.With):
            dag_call = stmt.items[0].context_expr
            found["dag"] = _kwargs(dag_call)
            params = next((k.value for k in dag_call.keywords if k.arg == "params"), ast.Dict(keys=[], values=[]))
            for key, call in zip(params.keys, params.values):
                found["params"][ast.literal_eval(key)] = [ast.literal_eval(call.args[0]), _kwargs(call)]
            for task_stmt in stmt.body[1:]:
                if isinstance(task_stmt, ast.Assign):
                    override = task_stmt.value.func.value if isinstance(task_stmt.value.func, ast.Attribute) \
                        and task_stmt.value.func.attr == "expand" else task_stmt.value.func
                    found["tasks"][ast.literal_eval(task_stmt.targets[0].slice)] = _kwargs(override)
    return found


@PROPERTY_SETTINGS
@given(graphs(), notebooks, st.dictionaries(st.sampled_from(RUNTIME_FILES), text))
def test_any_text_stays_a_value(graph, pins, runtime):
    context = _context(graph, pins, runtime)
    source = dag_render(context)
    compile(source, "dag.py", "exec")
    # Same statements as a file that holds no user text at all: nothing typed became code.
    assert _skeleton(source) == _skeleton(dag_render(context, literal=_placeholder))

    back = _read_back(source)
    assert back["NODES"] == context["nodes"]
    assert back["LOOM_RUNTIME"] == runtime
    assert back["TENANT"] == "acme-1" and back["DAG_ID"] == "loom__acme-1__42"
    assert back["SETTINGS"] == context["settings"]
    for node in graph["nodes"]:
        assert back["NODES"][node["id"]]["values"] == node["parameters"]
        assert back["NODES"][node["id"]]["outputs"] == node["outputs"]
    dag = back["dag"]
    assert dag["dag_display_name"] == graph["name"]
    assert dag["description"] == (graph["description"] or None)
    assert dag["schedule"] == graph["schedule"]
    assert set(dag["tags"]) == {"loom", "acme-1", *graph["tags"]}
    assert back["params"] == {p["name"]: [p["default"], _kwargs_of_param(p)] for p in graph["parameters"]}
    for node in graph["nodes"]:
        task = back["tasks"][node["id"]]
        assert task["task_display_name"] == (node["label"] or node["id"])
        assert task["doc_md"] == (node["description"] or None)
        assert task["pool"] == "loom__acme-1" + (f"__{node['pool']}" if node["pool"] else "")
        assert task.get("queue") == (node["queue"] or None)
        assert task["trigger_rule"] == node["trigger_rule"]
    header = source.splitlines()[0]
    assert ast.literal_eval(header.removeprefix("# Loom workflow ").removesuffix(", version 7")) == graph["name"]


def _kwargs_of_param(p):
    kind = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array", "dict": "object"}
    return {"type": kind[p["type"]] if p["default"] is not None else [kind[p["type"]], "null"],
            "description": p["help"] or None}


@PROPERTY_SETTINGS
@given(json_values, st.integers(0, 16), st.booleans())
def test_literal_round_trips(value, indent, one_line):
    literal = py_literal(value, indent, one_line=one_line)
    if one_line:
        assert len(literal.splitlines()) == 1, "a literal in a comment must not end the comment"
    tree = ast.parse(literal, mode="eval")
    assert all(isinstance(n, (ast.Expression, ast.Constant, ast.List, ast.Dict, ast.UnaryOp, ast.USub, ast.Load))
               for n in ast.walk(tree)), literal
    assert ast.literal_eval(tree) == value


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(NASTY + ["'", "''", "\n"]), st.text(string.printable, max_size=8)), min_size=1)
       .map(lambda parts: "x" * 120 + "\n" + "".join(parts)))
def test_long_text_uses_a_readable_string_that_round_trips(value):
    literal = py_literal(value)
    assert literal.startswith("'''\\\n")
    assert ast.literal_eval(literal) == value


def test_a_long_multi_line_name_stays_in_the_header_comment():
    graph = {"name": "x" * 150 + "\nimport os\nos.system('id')", "nodes": [], "edges": []}
    source = dag_render(_context(graph, {}, {}))
    header = source.splitlines()[0]
    assert ast.literal_eval(header.removeprefix("# Loom workflow ").removesuffix(", version 7")) == graph["name"]
    assert _skeleton(source) == _skeleton(dag_render(_context(graph, {}, {}), literal=_placeholder))
