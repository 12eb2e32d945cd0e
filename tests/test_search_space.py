import numpy as np
import pytest

from jaxdiag.search import (
    Categorical,
    Fixed,
    Integer,
    LogUniform,
    Space,
    Uniform,
    space_from_dict,
)


def test_decode_maps_the_unit_cube_onto_each_kind():
    space = Space({"lr": LogUniform(1e-4, 1.0), "m": Uniform(0.0, 0.9), "n": Integer(1, 4),
                   "act": Categorical(("relu", "tanh")), "c": Fixed(7)})
    points = space.decode(np.array([[0.0] * 5, [0.5] * 5, [0.999999] * 5]))
    assert points[0] == {"lr": pytest.approx(1e-4), "m": 0.0, "n": 1, "act": "relu", "c": 7}
    assert points[1]["lr"] == pytest.approx(1e-2) and points[1]["m"] == pytest.approx(0.45)
    assert points[1]["n"] == 3 and points[1]["act"] == "tanh"
    assert points[2]["lr"] == pytest.approx(1.0, rel=1e-5) and points[2]["n"] == 4
    assert all(type(p["n"]) is int and type(p["lr"]) is float for p in points)


def test_encode_inverts_decode():
    space = Space({"lr": LogUniform(1e-4, 1.0), "m": Uniform(0.0, 0.9), "n": Integer(1, 4),
                   "act": Categorical(("relu", "tanh", "gelu"))})
    unit = np.random.default_rng(0).random((50, 4))
    points = space.decode(unit)
    assert space.decode(space.encode(points)) == points
    np.testing.assert_allclose(space.encode(points)[:, :2], unit[:, :2], rtol=1e-9)


def test_conditional_parameters_take_their_default_where_inactive():
    space = Space({"opt": Categorical(("sgd", "adam")),
                   "momentum": Uniform(0.5, 0.9, when={"opt": ("sgd",)})},
                  defaults={"momentum": 0.0})
    points = space.decode(np.array([[0.1, 0.5], [0.9, 0.5]]))
    assert points == [{"opt": "sgd", "momentum": pytest.approx(0.7)},
                      {"opt": "adam", "momentum": 0.0}]
    # the grid does not repeat adam once per momentum value
    assert len(space.grid(3)) == 3 + 1


def test_grid_enumerates_every_combination():
    space = Space({"a": Uniform(0, 1), "b": LogUniform(1, 100), "c": Categorical((1, 2))})
    grid = space.grid(3)
    assert len(grid) == 3 * 3 * 2
    assert sorted({p["b"] for p in grid}) == pytest.approx([1, 10, 100])


@pytest.mark.parametrize("params, match", [
    ({"lr": Uniform(1.0, 1.0)}, r"lr.low: expected less than high = 1.0, found 1.0"),
    ({"lr": LogUniform(0.0, 1.0)}, r"lr.low: expected a positive bound \(log scale\), found 0.0"),
    ({"lr": LogUniform(1e-3, -1.0)}, r"lr.high: expected a positive bound"),
    ({"n": Integer(1, 2.5)}, r"n.high: expected an integer, found 2.5"),
    ({"act": Categorical(())}, r"act.choices: expected at least one choice"),
    ({}, r"params: expected at least one hyperparameter"),
    ({"m": Uniform(0, 1, when={"opt": ("sgd",)})}, r"m.when: expected a condition on an earlier"),
    ({"opt": Categorical(("sgd",)), "m": Uniform(0, 1, when={"opt": ("sgd",)})},
     r"defaults\['m'\]: expected a value for the conditional parameter"),
])
def test_bad_spaces_are_errors_naming_the_parameter(params, match):
    with pytest.raises(ValueError, match=match):
        Space(params)


def test_space_from_dict_reads_toml_tables_and_names_bad_keys():
    space = space_from_dict({
        "learning_rate": {"type": "log_uniform", "low": 1e-3, "high": 1.0},
        "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]},
        "momentum": {"type": "uniform", "low": 0.0, "high": 0.99,
                     "when": {"optimizer": ["sgd"]}, "default": 0.0}})
    assert space.names == ["learning_rate", "optimizer", "momentum"]
    assert space.params["momentum"].when == {"optimizer": ("sgd",)}
    with pytest.raises(ValueError, match=r"'space.lr.type': expected one of"):
        space_from_dict({"lr": {"type": "loguniform", "low": 1, "high": 2}})
    with pytest.raises(ValueError, match=r"'space.lr.high': missing"):
        space_from_dict({"lr": {"type": "uniform", "low": 1}})
    with pytest.raises(ValueError, match=r"'space.lr.step': unknown key"):
        space_from_dict({"lr": {"type": "uniform", "low": 1, "high": 2, "step": 1}})
    with pytest.raises(ValueError, match=r"'space.lr.low: expected a positive bound"):
        space_from_dict({"lr": {"type": "log_uniform", "low": -1, "high": 2}})
