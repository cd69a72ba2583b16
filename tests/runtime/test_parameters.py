import pytest

from runtime.parameters import PRECEDENCE, parameters_resolve

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
