import pytest

from runtime.parameters import (
    ARTIFACTS_PARAMETER, PRECEDENCE, FanOut, edge_layer, fan_out, fan_out_items, node_parameters, parameters_resolve,
)

LAYERS = {
    "map": {"p": "map"},
    "override": {"p": "override"},
    "node": {"p": "node"},
    "edge": {"p": "edge"},
    "global": {"p": "global"},
    "default": {"p": "default"},
}


@pytest.mark.parametrize("winner", PRECEDENCE)
def test_each_layer_beats_every_layer_below_it(winner):
    below = PRECEDENCE[PRECEDENCE.index(winner):]
    resolved = parameters_resolve(["p"], **{layer: LAYERS[layer] for layer in below})
    assert resolved["p"] == (winner, winner)


def test_documented_precedence():
    assert PRECEDENCE == ("map", "override", "node", "edge", "global", "default")


def test_only_declared_names_are_resolved_and_unset_ones_are_left_out():
    resolved = parameters_resolve(["a", "b"], node={"a": 1, "zzz": 2}, **{"global": {"zzz": 3}})
    assert resolved == {"a": (1, "node")}


def test_falsy_values_still_win():
    assert parameters_resolve(["a"], node={"a": None}, default={"a": 5})["a"] == (None, "node")
    assert parameters_resolve(["a"], override={"a": 0}, node={"a": 5})["a"] == (0, "override")


def test_unknown_layer_is_a_programming_error():
    with pytest.raises(TypeError, match="unknown parameter layers"):
        parameters_resolve(["a"], nodes={"a": 1})


def test_fan_out_names_the_list_and_the_parameter_receiving_each_item():
    assert fan_out(None, "x") is None and fan_out("", None) is None
    assert fan_out("accounts", None) == FanOut("accounts", None, "accounts", "accounts")
    assert fan_out("accounts", "account") == FanOut("accounts", None, "accounts", "account")
    assert fan_out("ingest.ids", None) == FanOut("ingest.ids", "ingest", "ids", "ids")
    assert fan_out("ingest.ids", "id") == FanOut("ingest.ids", "ingest", "ids", "id")


def test_fan_out_items_come_from_the_override_the_global_or_the_upstream():
    fan = fan_out("accounts", "account")
    assert fan_out_items(fan, overrides={"accounts": ["c"]}, globals={"accounts": ["a"]}) == ["c"]
    assert fan_out_items(fan, globals={"accounts": ["a"]}) == ["a"]
    with pytest.raises(TypeError, match="^map_over 'accounts' is NoneType, not a list.$"):
        fan_out_items(fan, globals={"accounts": None})
    with pytest.raises(TypeError, match="^map_over 'accounts' is str, not a list.$"):
        fan_out_items(fan, overrides={"accounts": "a"}, globals={"accounts": ["a"]})
    up = fan_out("up.ids", None)
    assert fan_out_items(up, upstream={"ids": [1, 2]}) == [1, 2]
    with pytest.raises(TypeError, match="^map_over 'up.ids': 'up' did not succeed, so there is no list to map over.$"):
        fan_out_items(up, upstream=None)


def test_an_upstream_without_outputs_gives_nothing_and_lower_layers_apply():
    outputs = {"ok": {"a": 1}, "failed": None}
    edge = edge_layer({"ok": {"a": "x"}, "failed": {"b": "y"}}, outputs.get)
    assert edge == {"x": 1}
    resolved = node_parameters(["x", "y"], edge=edge, globals={"y": 2})
    assert resolved == {"x": (1, "edge"), "y": (2, "global")}


def test_the_artifacts_folder_takes_the_place_of_the_notebook_default():
    assert node_parameters([ARTIFACTS_PARAMETER], artifacts_dir="/a")[ARTIFACTS_PARAMETER] == ("/a", "default")
    assert node_parameters([ARTIFACTS_PARAMETER], artifacts_dir="/a", globals={ARTIFACTS_PARAMETER: "/g"})[
        ARTIFACTS_PARAMETER] == ("/g", "global")


def test_without_an_item_there_is_no_map_layer():
    fan = fan_out("accounts", "account")
    assert node_parameters(["account"], fan=fan, values={"account": "n"}) == {"account": ("n", "node")}
    assert node_parameters(["account"], fan=fan, item=None, values={"account": "n"}) == {"account": (None, "map")}
