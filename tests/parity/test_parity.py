"""Parity: the same workflow on the local engine and on a real Airflow 3.3 gives the same run.

One workflow covers every trigger rule (each below a node that succeeds and one that fails),
a fan-out with a failing item, one that accepts a failed item (downstream gets the others), a
node that fails, and, below an `all_done` node, one more: on
its first run every leaf task succeeds, so Airflow's own DAG-run state says success while
Loom's rule says failed. Both engines run it, then repair it (the failures pass on their
second try); per node and per map index, status, outputs and error message must agree, before
and after the repair. New engine behaviour belongs here, not in one engine's tests.
"""
import pytest

from tests.runs.support import nodes_of, wait_run
from workflows.graph import TRIGGER_RULES

pytestmark = pytest.mark.airflow

# What each trigger rule does below one upstream that succeeded and one that failed, then (after
# the repair) below two that succeeded.
FIRST = {"all_success": "upstream_failed", "all_failed": "skipped", "all_done": "success", "always": "success",
         "all_skipped": "skipped", "one_success": "success", "one_failed": "success", "one_done": "success",
         "none_failed": "upstream_failed", "none_failed_min_one_success": "upstream_failed",
         "none_skipped": "success"}
AFTER_REPAIR = {**{rule: "success" for rule in TRIGGER_RULES}, "all_failed": "skipped", "all_skipped": "skipped",
                "one_failed": "skipped"}


def _rule_node(rule: str) -> str:
    return "r_" + rule


@pytest.fixture
def parity_workflow(nb, workflow):
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    # Fails the first time it runs an item starting with 'bad' (a marker file in `flagdir` says it ran).
    nb("flaky.ipynb", "item = 'ok'\nflagdir = ''",
       "import os\nflag = os.path.join(flagdir, item)\n"
       "if item.startswith('bad') and not os.path.exists(flag):\n    open(flag, 'w').write('x')\n"
       "    raise RuntimeError(f'the first try of {item} fails')",
       "out = item.upper()")
    nb("rule.ipynb", "a = ''\nb = ''", "seen = f'{a}|{b}'")
    nb("join.ipynb", "outs = []", "joined = ','.join(outs)")
    rules = [{"id": _rule_node(rule), "notebook": "rule.ipynb", "trigger_rule": rule, "outputs": ["seen"]}
             for rule in TRIGGER_RULES]
    edges = [{"source": "ok", "target": "flaky", "bind": {}}, {"source": "ok", "target": "each", "bind": {}},
             {"source": "each", "target": "join", "bind": {"out": "outs"}},
             {"source": "tolerant", "target": "join_tolerant", "bind": {"out": "outs"}},
             {"source": "r_all_done", "target": "below_all_done", "bind": {"seen": "a"}}]
    for r in rules:
        # `always` runs at once, without waiting for its upstream (as in Airflow): it binds nothing.
        binds = ({}, {}) if r["trigger_rule"] == "always" else ({"y": "a"}, {"out": "b"})
        edges += [{"source": "ok", "target": r["id"], "bind": binds[0]},
                  {"source": "flaky", "target": r["id"], "bind": binds[1]},
                  {"source": r["id"], "target": "end", "bind": {}}]
    edges.append({"source": "join", "target": "end", "bind": {}})
    return workflow(
        parameters=[{"name": "items", "type": "list", "default": ["a", "bad-item", "c"]},
                    {"name": "more", "type": "list", "default": ["x", "bad-other", "z"]},
                    {"name": "flagdir", "type": "str", "default": ""}],
        nodes=[
            {"id": "ok", "notebook": "step.ipynb", "outputs": ["y"]},
            {"id": "flaky", "notebook": "flaky.ipynb", "outputs": ["out"], "parameters": {"item": "bad-node"}},
            {"id": "each", "notebook": "flaky.ipynb", "map_over": "items", "map_parameter": "item", "outputs": ["out"]},
            {"id": "join", "notebook": "join.ipynb", "outputs": ["joined"]},
            {"id": "tolerant", "notebook": "flaky.ipynb", "map_over": "more", "map_parameter": "item",
             "max_failed_items": 1, "outputs": ["out"]},
            {"id": "join_tolerant", "notebook": "join.ipynb", "outputs": ["joined"]},
            *rules,
            {"id": "below_all_done", "notebook": "rule.ipynb", "outputs": ["seen"]},
            {"id": "end", "notebook": "rule.ipynb", "trigger_rule": "all_done", "outputs": ["seen"]},
        ],
        edges=edges,
    )


# After the repair, `ok` has already succeeded, so these fire at once while `flaky` runs again:
# whether they see its new output is a race on either engine (as in Airflow), not a rule.
RACING_AFTER_REPAIR = {_rule_node("one_success"), _rule_node("one_done")}


def _compared(detail: dict, racing=frozenset()) -> dict:
    """What must agree between the engines: per node and map index, status, outputs, error message
    (not the outputs of `racing` nodes)."""
    return {key: (n["status"], None if key in racing else n["outputs"], (n["error"] or {}).get("message"))
            for key, n in nodes_of(detail).items()}


def test_both_engines_agree_on_every_trigger_rule_a_fan_out_a_failure_and_its_repair(
        airflow_engine, api, tenant, parity_workflow, run_wf, tmp_path):
    runs = {}
    for engine in ("airflow", "local"):
        (tmp_path / engine).mkdir()
        runs[engine] = run_wf(parity_workflow, {"flagdir": str(tmp_path / engine)}, engine=engine, wait=False)["id"]
    first = {engine: wait_run(api, tenant.slug, pk, timeout=240) for engine, pk in runs.items()}

    # Loom's rule, not Airflow's DAG-run state (every leaf succeeded there): failed, naming what did not succeed.
    local, airflow = first["local"], first["airflow"]
    assert local["status"] == airflow["status"] == "failed", (local, airflow)
    assert airflow["error"] == local["error"], (airflow["error"], local["error"])
    assert local["error"].startswith("Did not succeed: flaky (failed), each (failed), join (upstream_failed)")
    assert _compared(airflow) == _compared(local)
    nodes = nodes_of(local)
    assert {rule: nodes[_rule_node(rule)]["status"] for rule in TRIGGER_RULES} == FIRST
    assert nodes["flaky"]["error"]["message"] == "Cell 3 raised RuntimeError: the first try of bad-node fails"
    assert [nodes["each", i]["status"] for i in range(3)] == ["success", "failed", "success"]
    assert nodes["r_all_done"]["outputs"] == {"seen": "2|"} and nodes["below_all_done"]["status"] == "success"
    assert nodes["end"]["status"] == "success"
    # Within its allowance: the node succeeded, downstream got the other items' results.
    assert nodes["tolerant"]["status"] == "success" and nodes["tolerant"]["outputs"] == {
        "out": ["X", "Z"], "map_items": ["x", "z"]}
    assert nodes["join_tolerant"]["outputs"] == {"joined": "X,Z"}
    assert _warned(airflow, "tolerant") and _warned(local, "tolerant")

    for engine, pk in runs.items():
        response = api.post(f"/api/tenants/{tenant.slug}/runs/{pk}/repair/")
        assert response.status_code == 200, (engine, response.content)
    repaired = {engine: wait_run(api, tenant.slug, pk, timeout=240) for engine, pk in runs.items()}

    local, airflow = repaired["local"], repaired["airflow"]
    assert local["status"] == airflow["status"] == "success", (local, airflow)
    assert local["error"] == airflow["error"] == ""
    assert _compared(airflow, RACING_AFTER_REPAIR) == _compared(local, RACING_AFTER_REPAIR)
    for detail in (local, airflow):
        for node in RACING_AFTER_REPAIR:
            assert nodes_of(detail)[node]["outputs"]["seen"] in ("2|", "2|BAD-NODE"), node
    nodes = nodes_of(local)
    assert {rule: nodes[_rule_node(rule)]["status"] for rule in TRIGGER_RULES} == AFTER_REPAIR
    assert nodes["r_all_done"]["outputs"] == {"seen": "2|BAD-NODE"}
    assert nodes["below_all_done"]["outputs"] == {"seen": "2|BAD-NODE|"}
    assert nodes["join"]["outputs"] == {"joined": "A,BAD-ITEM,C"}
    for engine in ("local", "airflow"):
        before, after = nodes_of(first[engine]), nodes_of(repaired[engine])
        # What succeeded and is not below a failure kept its result; the rest ran again.
        assert after["ok"]["started_at"] == before["ok"]["started_at"], engine
        assert after["each", 0]["started_at"] == before["each", 0]["started_at"], engine
        for rerun in ("r_all_done", "below_all_done", "end", ("each", 1)):
            assert after[rerun]["started_at"] != before[rerun]["started_at"], (engine, rerun)


def _warned(detail: dict, node: str) -> bool:
    return any("2 succeeded · 1 failed" in w for w in nodes_of(detail)[node]["warnings"])
