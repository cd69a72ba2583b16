"""Graph validation: one test per rule, each checking the node, the field and the message."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.graph import ancestors, graph_normalize, graph_order
from workflows.validation import graph_validate

NOTEBOOKS = {
    "load.ipynb": [
        {"name": "source", "type": "str", "default": "db", "required": False},
        {"name": "limit", "type": "int", "default": 10, "required": False},
    ],
    "train.ipynb": [
        {"name": "account", "type": None, "default": None, "required": True},
        {"name": "rate", "type": "float", "default": 0.1, "required": False},
        {"name": "rows", "type": "int", "default": 0, "required": False},
        {"name": "path", "type": "str", "default": "", "required": False},
    ],
    "report.ipynb": [{"name": "aucs", "type": "list", "default": [], "required": False}],
}


def node(id, notebook="load.ipynb", **kw):
    return {"id": id, "notebook": notebook, **kw}


def errors(graph, **kw):
    graph = {"name": "g", "nodes": [], "edges": [], **graph}
    return [(e.node, e.field, e.message) for e in graph_validate(graph, notebooks=NOTEBOOKS, **kw)]


def only(graph, **kw):
    found = errors(graph, **kw)
    assert len(found) == 1, found
    return found[0]


def test_a_valid_graph_has_no_errors():
    graph = {
        "parameters": [{"name": "accounts", "type": "list", "default": ["a", "b"]}],
        "nodes": [
            node("load", outputs=["path", {"name": "n", "type": "int"}]),
            node("train", "train.ipynb", map_over="accounts", map_parameter="account", outputs=["auc"]),
            node("report", "report.ipynb"),
        ],
        "edges": [
            {"source": "load", "target": "train", "bind": {"path": "path", "n": "rows"}},
            {"source": "train", "target": "report", "bind": {"auc": "aucs"}},
        ],
        "schedule": "0 6 * * 1-5",
    }
    assert errors(graph) == []


def test_cycle():
    graph = {"nodes": [node("a"), node("b")], "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]}
    found = errors(graph)
    assert {(n, f) for n, f, _ in found} == {("a", "edges"), ("b", "edges")}
    assert all("Cycle:" in m and "loop back" in m for _, _, m in found)


def test_self_loop():
    assert only({"nodes": [node("a")], "edges": [{"source": "a", "target": "a"}]}) == (
        "a", "edges[0]", "Node 'a' cannot feed itself.")


def test_duplicate_ids():
    assert only({"nodes": [node("a"), node("a")]}) == ("a", "id", "Node id 'a' is used by more than one node.")


@pytest.mark.parametrize("bad", ["1abc", "has space", "dash-ed", "", "x" * 65, "naïve"])
def test_invalid_ids(bad):
    n, f, m = only({"nodes": [node(bad)]})
    assert (n, f) == (bad, "id") and "is invalid" in m


def test_unknown_notebook():
    assert only({"nodes": [node("a", "nope.ipynb")]}) == ("a", "notebook", "No notebook 'nope.ipynb' in the catalog.")


def test_unknown_parameter():
    assert only({"nodes": [node("a", parameters={"sauce": 1})]}) == (
        "a", "parameters.sauce", "load.ipynb has no parameter 'sauce' (it declares source, limit).")


def test_edge_to_unknown_node():
    assert only({"nodes": [node("a")], "edges": [{"source": "ghost", "target": "a"}]}) == (
        "a", "edges[0]", "Edge ghost → a refers to unknown node 'ghost'.")


def test_binding_to_an_output_upstream_does_not_declare():
    graph = {"nodes": [node("a", outputs=["x"]), node("b")], "edges": [{"source": "a", "target": "b", "bind": {"y": "source"}}]}
    assert only(graph) == ("b", "parameters.source", "'a' has no output 'y' (it declares: x).")


def test_binding_to_a_parameter_downstream_does_not_declare():
    graph = {"nodes": [node("a", outputs=["x"]), node("b")], "edges": [{"source": "a", "target": "b", "bind": {"x": "nope"}}]}
    assert only(graph) == ("b", "parameters.nope", "load.ipynb has no parameter 'nope' (it declares source, limit).")


def test_parameter_bound_twice():
    graph = {
        "nodes": [node("a", outputs=["x"]), node("c", outputs=["y"]), node("b")],
        "edges": [{"source": "a", "target": "b", "bind": {"x": "source"}}, {"source": "c", "target": "b", "bind": {"y": "source"}}],
    }
    assert only(graph) == ("b", "parameters.source", "Parameter 'source' is bound twice: from a.x and c.y.")


def test_node_value_type_mismatch():
    assert only({"nodes": [node("a", parameters={"limit": "ten"})]}) == (
        "a", "parameters.limit", "'limit' expects an int, got a str: 'ten'.")


def test_int_fits_float_but_bool_is_not_int():
    assert errors({"nodes": [node("t", "train.ipynb", parameters={"account": "x", "rate": 1})]}) == []
    assert only({"nodes": [node("a", parameters={"limit": True})]})[2] == "'limit' expects an int, got a bool: True."


def test_typed_output_bound_to_a_parameter_of_another_type():
    graph = {"nodes": [node("a", outputs=[{"name": "n", "type": "str"}]), node("b")],
             "edges": [{"source": "a", "target": "b", "bind": {"n": "limit"}}]}
    assert only(graph) == ("b", "parameters.limit", "'limit' expects an int, but a.n is a str.")


def test_output_of_a_fanned_out_node_is_a_list():
    graph = {
        "parameters": [{"name": "accounts", "type": "list", "default": ["a"]}],
        "nodes": [node("t", "train.ipynb", map_over="accounts", map_parameter="account", outputs=["auc"]), node("b")],
        "edges": [{"source": "t", "target": "b", "bind": {"auc": "limit"}}],
    }
    assert only(graph) == ("b", "parameters.limit", "'limit' expects an int, but t.auc is a list.")


def test_global_of_another_type_than_the_notebook_parameter():
    graph = {"parameters": [{"name": "limit", "type": "str", "default": "x"}], "nodes": [node("a")]}
    assert only(graph) == ("a", "parameters.limit", "Global 'limit' is a str, but load.ipynb expects an int.")


def test_global_default_must_match_its_type():
    assert only({"parameters": [{"name": "n", "type": "int", "default": "x"}]}) == (
        None, "parameters.n", "Default of 'n' is a str, not an int.")


def test_global_type_must_be_known():
    n, f, m = only({"parameters": [{"name": "n", "type": "number", "default": 1}]})
    assert (n, f) == (None, "parameters.n") and "has type 'number'; use one of str, int" in m


def test_map_over_must_name_a_list():
    graph = {"parameters": [{"name": "who", "type": "str", "default": "a"}],
             "nodes": [node("t", "train.ipynb", map_over="who", map_parameter="account")]}
    assert only(graph) == ("t", "map_over", "map_over 'who' is a str, not a list.")


def test_map_over_unknown_name():
    graph = {"nodes": [node("t", "train.ipynb", map_over="nobody", map_parameter="account")]}
    assert only(graph) == ("t", "map_over", "map_over 'nobody' is neither a global parameter nor an upstream output (node.output).")


def test_map_over_an_upstream_output():
    ok = {"nodes": [node("a", outputs=["ids"]), node("t", "train.ipynb", map_over="a.ids", map_parameter="account")],
          "edges": [{"source": "a", "target": "t"}]}
    assert errors(ok) == []
    not_upstream = {**ok, "edges": []}
    assert only(not_upstream) == ("t", "map_over", "map_over 'a.ids': 'a' must run before 't'; connect it upstream.")
    typed = {**ok, "nodes": [node("a", outputs=[{"name": "ids", "type": "int"}]), ok["nodes"][1]]}
    assert only(typed) == ("t", "map_over", "map_over 'a.ids' is an int, not a list.")


def test_map_over_an_ancestor_further_up():
    # Upstream through other nodes counts; downstream, or beside, does not, cycle or no cycle.
    chain = [node("a", outputs=["ids"]), node("b"), node("c"), node("t", "train.ipynb", map_over="a.ids", map_parameter="account")]
    edges = [{"source": "a", "target": "b"}, {"source": "b", "target": "c"}, {"source": "c", "target": "t"}]
    assert errors({"nodes": chain, "edges": edges}) == []
    reversed_ = [{"source": e["target"], "target": e["source"]} for e in edges]
    assert only({"nodes": chain, "edges": reversed_})[:2] == ("t", "map_over")
    looped = edges + [{"source": "b", "target": "x"}, {"source": "x", "target": "b"}]
    found = errors({"nodes": [*chain, node("x")], "edges": looped})
    assert {(n, f) for n, f, _ in found} == {("b", "edges"), ("x", "edges")}, "only the cycle is reported"
    beside = edges[:2] + [{"source": "c", "target": "x"}, {"source": "x", "target": "t"}]
    assert errors({"nodes": [*chain, node("x")], "edges": beside}) == []


@given(st.integers(2, 30), st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=60), st.data())
@settings(max_examples=60, deadline=None)
def test_map_over_upstream_agrees_with_reachability(size, pairs, data):
    """The fan-out check's one-pass ancestry answers like a walk of the graph, on any DAG."""
    ids = [f"n{i}" for i in range(size)]
    ends = {tuple(sorted((a % size, b % size))) for a, b in pairs}  # lower to higher index: a DAG
    edges = [{"source": ids[a], "target": ids[b]} for a, b in sorted(ends) if a != b]
    source, target = data.draw(st.sampled_from(ids)), data.draw(st.sampled_from(ids))
    if source == target:
        return
    nodes = [node(i, outputs=["ids"]) for i in ids if i != target]
    nodes.append(node(target, "train.ipynb", map_over=f"{source}.ids", map_parameter="account"))
    graph = {"nodes": nodes, "edges": edges}
    upstream = source in ancestors(graph_normalize({"name": "g", **graph}), target)
    assert (errors(graph) == []) == upstream


def test_map_parameter_must_be_declared():
    graph = {"parameters": [{"name": "accounts", "type": "list", "default": []}],
             "nodes": [node("t", "train.ipynb", map_over="accounts", parameters={"account": "x"})]}
    assert only(graph) == ("t", "map_parameter", "Name the parameter of train.ipynb that receives each item of 'accounts'.")


def test_required_parameter_without_a_value():
    assert only({"nodes": [node("t", "train.ipynb")]}) == (
        "t", "parameters.account", "'account' is required (train.ipynb sets it to None) and nothing gives it a value.")


@pytest.mark.parametrize("graph", [
    {"nodes": [node("t", "train.ipynb", parameters={"account": "acme"})]},
    {"parameters": [{"name": "account", "type": "str", "default": "acme"}], "nodes": [node("t", "train.ipynb")]},
    {"nodes": [node("a", outputs=["who"]), node("t", "train.ipynb")], "edges": [{"source": "a", "target": "t", "bind": {"who": "account"}}]},
])
def test_required_parameter_given_by_node_global_or_edge(graph):
    assert errors(graph) == []


def test_invalid_cron():
    assert only({"schedule": "every tuesday"})[:2] == (None, "schedule")
    assert errors({"schedule": "*/5 * * * *"}) == errors({"schedule": "@daily"}) == errors({"schedule": None}) == []


def test_invalid_start_date():
    assert only({"start_date": "2026-13-01"}) == (None, "start_date", "Start date '2026-13-01' is not a date (YYYY-MM-DD).")


def test_unknown_trigger_rule():
    n, f, m = only({"nodes": [node("a", trigger_rule="whenever")]})
    assert (n, f) == ("a", "trigger_rule") and m.startswith("Unknown trigger rule 'whenever'")


def test_unknown_connection():
    assert only({"nodes": [node("a", connections=["warehouse"])]}, connections=["lake"]) == (
        "a", "connections", "No connection named 'warehouse' in this tenant.")
    assert errors({"nodes": [node("a", connections=["lake"])]}, connections=["lake"]) == []


def test_every_problem_is_reported_at_once():
    graph = {"schedule": "nope", "nodes": [node("a", "x.ipynb"), node("a"), node("b", parameters={"limit": "x"})]}
    assert len(errors(graph)) == 4


def test_order_is_topological_and_stable():
    graph = graph_normalize({"name": "g", "nodes": [node("d"), node("c"), node("b"), node("a")],
                             "edges": [{"source": "a", "target": "b"}, {"source": "c", "target": "b"}]})
    assert graph_order(graph) == ["d", "c", "a", "b"]
