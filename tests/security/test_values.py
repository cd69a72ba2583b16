"""Values Airflow, the DAG file or the database cannot take are refused at validation, naming
the node and the field: never saved-then-500 at render, deploy or run start (issue 11)."""
import pytest

from dags.rendering import PinnedNotebook, dag_context, dag_render
from helpers import notebook_bytes, upload
from runs.services import RunParametersInvalid, run_parameters_check
from workflows.graph import graph_normalize
from workflows.validation import graph_validate
from loom.values import MAX_DEPTH, json_value_problem


def nested(depth: int, leaf=1):
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.mark.parametrize("value, problem", [
    (nested(MAX_DEPTH + 1), f"nests lists and objects deeper than {MAX_DEPTH} levels"),
    (nested(100_000), f"nests lists and objects deeper than {MAX_DEPTH} levels"),
    ([1, {"a": float("inf")}], "holds inf, which JSON cannot carry at [1]['a']"),
    (float("nan"), "holds nan, which JSON cannot carry"),
    ({"a": [2**63]}, "holds an integer outside the 64-bit range (-2**63 to 2**63-1) that JSON readers keep exactly at ['a'][0]"),
    (-(2**63) - 1, "holds an integer outside the 64-bit range (-2**63 to 2**63-1) that JSON readers keep exactly"),
    (-(10**5000), "holds an integer outside the 64-bit range (-2**63 to 2**63-1) that JSON readers keep exactly"),
    ("a\ud800b", "holds a string with a lone surrogate (\\ud800), which is not a character"),
    ({"x": {"\udfff": 1}}, "has a key with a lone surrogate (\\udfff), which is not a character at ['x']"),
    (["a\x00"], "holds a string with a NUL character (\\u0000), which the database cannot store at [0]"),
    ({1: 2}, "has a key that is not text (int)"),
    ({"s": {1, 2}}, "holds a set, which is not a JSON value at ['s']"),
], ids=range(12))
def test_values_nothing_downstream_can_take_are_named(value, problem):
    assert json_value_problem(value) == problem


@pytest.mark.parametrize("value", [
    None, True, 0, -(2**63), 2**63 - 1, 1e308, -0.0, "é🙂\u2028\x0c", nested(MAX_DEPTH), {"": [[], {}]},
])
def test_values_that_fit_pass(value):
    assert json_value_problem(value) is None


def graph_with(value):
    return {"name": "w", "parameters": [{"name": "g", "type": "list", "default": [value]}], "edges": [],
            "nodes": [{"id": "a", "notebook": "a.ipynb", "parameters": {"p": value}}]}


def test_the_deepest_value_allowed_renders_a_dag_python_compiles():
    value = nested(MAX_DEPTH - 1)  # the global default wraps it in one more list
    graph = graph_with(value)
    assert graph_validate(graph, notebooks={"a.ipynb": [{"name": "p", "type": None}]}) == []
    source = dag_render(dag_context(graph=graph_normalize(graph), tenant="acme", workflow_id=1, version=1, runtime={},
                                   notebooks={"a.ipynb": PinnedNotebook("0" * 64, ("p",))}))
    compile(source.encode("utf-8"), "dag.py", "exec", dont_inherit=True)


def test_graph_validation_names_node_and_field():
    errors = graph_validate(graph_with(nested(MAX_DEPTH + 1)), notebooks={"a.ipynb": [{"name": "p", "type": None}]})
    deep = f"nests lists and objects deeper than {MAX_DEPTH} levels."
    assert [e.as_dict() for e in errors] == [
        {"node": None, "field": "parameters.g", "message": f"Default of 'g' {deep}"},
        {"node": "a", "field": "parameters.p", "message": f"Value of 'p' {deep}"},
    ]
    graph = {**graph_with(1), "nodes": [{"id": "a", "notebook": "a.ipynb", "parameters": {"p\ud800": 1}}]}
    errors = graph_validate(graph, notebooks={"a.ipynb": [{"name": "p", "type": None}]})
    assert errors[0].as_dict() == {"node": "a", "field": "parameters.p\\ud800",
                                   "message": "Value of 'p\\ud800' holds a string with a lone surrogate (\\ud800), which is not a character."}


def test_run_parameters_are_checked_with_the_same_rule():
    graph = {"name": "w", "nodes": [], "edges": [], "parameters": [{"name": "x", "type": "float", "default": 1.0}]}
    with pytest.raises(RunParametersInvalid) as caught:
        run_parameters_check(graph=graph, parameters={"x": float("inf"), "y\udc00": 1})
    assert caught.value.errors == [
        {"node": None, "field": "parameters.x", "message": "Run parameter 'x' holds inf, which JSON cannot carry."},
        {"node": None, "field": "parameters.y\\udc00",
         "message": "Run parameter 'y\\udc00' holds a string with a lone surrogate (\\udc00), which is not a character."},
    ]


@pytest.fixture
def wid(api, tenant):
    upload(api, tenant.slug, "a.ipynb", notebook_bytes("p = None\nx = 1.0"))
    graph = {"name": "w", "parameters": [{"name": "x", "type": "float", "default": 1.0}],
             "nodes": [{"id": "a", "notebook": "a.ipynb", "parameters": {"p": 1}}], "edges": []}
    return api.post(f"/api/tenants/{tenant.slug}/workflows/", graph, format="json").json()["id"]


def test_over_the_api_a_saved_bad_value_is_a_400_naming_it_at_render_and_run(api, tenant, wid):
    # The API's parser refuses most bad values at once (tests/security/test_bodies.py); a value
    # between 32 and 64 levels deep gets through it, is saved as a draft and named here.
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/"
    deep = "[" * 40 + "]" * 40
    body = ('{"name": "w", "base_version": 1, "edges": [], "parameters": [{"name": "x", "type": "float", "default": 1}],'
            f' "nodes": [{{"id": "a", "notebook": "a.ipynb", "parameters": {{"p": {deep}}}}}]}}')
    saved = api.put(url, body, content_type="application/json")
    assert saved.status_code == 200, saved.content
    expected = {"node": "a", "field": "parameters.p", "message": f"Value of 'p' nests lists and objects deeper than {MAX_DEPTH} levels."}
    assert saved.json()["errors"] == [expected]
    dag = api.get(url + "dag/")
    assert dag.status_code == 400 and dag.json()["errors"] == [expected]
    assert api.post(url + "runs/", {"version": 2}, format="json").json()["errors"] == [expected]
    run = api.post(url + "runs/", {"version": 1, "parameters": {"x": 1}}, format="json")
    assert run.status_code == 201, run.content  # version 1 is fine
    run = api.post(url + "runs/", '{"version": 1, "parameters": {"x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}',
                   content_type="application/json")
    assert run.status_code == 400
    assert run.json()["errors"] == [{"node": None, "field": "parameters.x",
                                     "message": f"Run parameter 'x' nests lists and objects deeper than {MAX_DEPTH} levels."}]
