"""Loading models (path, dict, JSON text), their neurons, params and dtype; load errors."""
import json
import math

import numpy as np
import pytest

import hamuxc
from conftest import MODELS, model_path


def test_load_from_path_describes_the_model(readme):
    assert readme.name == "hamux-readme"
    assert readme.dtype == np.float32
    assert readme.neuron_names == ["input", "labels", "hidden"]
    assert [(n.name, n.shape, n.tau) for n in readme.neurons] == [
        ("input", (7,), 1.0), ("labels", (8,), 1.0), ("hidden", (9,), 1.0)]
    assert readme.param_names == ["W1", "W2"]
    assert readme.source == model_path("readme")
    assert readme.base_dir == str(MODELS)
    assert json.loads(readme.json)["name"] == "hamux-readme"
    assert readme.neuron("hidden").shape == (9,)
    assert repr(readme) == "<hamuxc.Model 'hamux-readme': 3 neurons, float32>"
    assert repr(readme.neuron("input")) == "Neuron(name='input', shape=(7,), tau=1.0)"


def test_float64_model_has_float64_dtype():
    m = hamuxc.load(model_path("custom_energies"))
    assert m.dtype == np.float64
    assert m.zeros(2).get(m.neuron_names[0]).dtype == np.float64


def test_load_from_dict_equals_load_from_path(readme):
    d = json.loads((MODELS / "readme.json").read_text())
    m = hamuxc.load(d)
    assert m.source is None and m.base_dir == "."
    assert m.neuron_names == readme.neuron_names
    for p in readme.param_names:  # the same seeded init draws the same values
        np.testing.assert_array_equal(m.param(p), readme.param(p))
    a, b = readme.normal(4, 7), m.normal(4, 7)
    readme.run(a, steps=30)
    m.run(b, steps=30)
    for n in m.neuron_names:
        np.testing.assert_array_equal(a[n], b[n])


def test_dict_built_in_python_with_a_file_param_reads_it_from_base_dir():
    d = {"hamux": "1", "name": "hebb",
         "params": {"H": {"shape": [1024, 1024], "init": {"file": {"path": "hebbian_1024x1024.npy"}}}},
         "neurons": {"v": {"shape": [1024], "lagrangian": "tanh"}},
         "synapses": {"s": {"dense": {"W": "H"}}},
         "connections": [{"neurons": ["v", "v"], "synapse": "s"}]}
    m = hamuxc.load(d, base_dir=MODELS)
    np.testing.assert_array_equal(m.param("H"), np.load(MODELS / "hebbian_1024x1024.npy").astype(np.float32))
    with pytest.raises(hamuxc.Error) as e:
        hamuxc.load(d)  # relative to the current directory: not there
    assert e.value.where == "<json>: /params/H/init/file"
    assert e.value.cause == "hebbian_1024x1024.npy: cannot open file"


def test_loads_from_json_text():
    m = hamuxc.loads((MODELS / "readme.json").read_text(), base_dir=MODELS)
    assert m.name == "hamux-readme" and m.base_dir == str(MODELS)


def test_zero_state_energy_tree_has_the_closed_forms(readme):
    # Softmax layers at x = 0: L = log n, xhat = 1/n, E = xhat.x - L = -log n.
    tree = readme.energy_tree(readme.zeros(2))
    np.testing.assert_allclose(tree["neuron hidden"], [-math.log(9)] * 2, rtol=1e-6)
    np.testing.assert_allclose(tree["neuron labels"], [-math.log(8)] * 2, rtol=1e-6)
    np.testing.assert_allclose(readme.zeros(1).activation("hidden"), np.full((1, 9), 1 / 9), rtol=1e-6)


def test_bad_model_file_raises_error_with_place_and_cause(tmp_path):
    with pytest.raises(hamuxc.Error) as e:
        hamuxc.load(tmp_path / "nothere.json")
    assert str(e.value) == f"{tmp_path}/nothere.json: cannot open file"
    assert e.value.where == f"{tmp_path}/nothere.json" and e.value.cause == "cannot open file"
    bad = tmp_path / "bad.json"
    d = json.loads((MODELS / "readme.json").read_text())
    d["neurons"]["input"]["shape"] = [0]
    bad.write_text(json.dumps(d))
    with pytest.raises(hamuxc.Error) as e:
        hamuxc.load(bad)
    assert str(e.value) == f"{bad}: /neurons/input/shape/0: dimension must be a positive integer, got 0"
    assert e.value.where == f"{bad}: /neurons/input/shape/0"
    assert e.value.cause == "dimension must be a positive integer, got 0"


def test_bad_dict_and_text_name_the_json():
    d = json.loads((MODELS / "readme.json").read_text())
    d["connections"][0]["synapse"] = "nope"
    with pytest.raises(hamuxc.Error) as e:
        hamuxc.load(d)
    assert e.value.where.startswith("<json>: /connections/0/synapse")
    with pytest.raises(hamuxc.Error) as e:
        hamuxc.loads("{")
    assert str(e.value) == ("<json>: line 1, column 2: syntax error while parsing object key - "
                            "unexpected end of input; expected string literal")
    with pytest.raises(TypeError, match="base_dir is for a model given as a dict"):
        hamuxc.load(model_path("readme"), base_dir=".")


def test_error_is_an_exception_that_pickles_with_its_attributes():
    import pickle
    assert issubclass(hamuxc.Error, Exception)
    with pytest.raises(hamuxc.Error) as e:
        hamuxc.load("nothere.json")
    back = pickle.loads(pickle.dumps(e.value))
    assert (str(back), back.where, back.cause) == ("nothere.json: cannot open file", "nothere.json", "cannot open file")


def test_unknown_neuron(readme):
    with pytest.raises(hamuxc.Error) as e:
        readme.neuron("nope")
    assert str(e.value) == f"neuron 'nope': unknown neuron ({model_path('readme')} has: input, labels, hidden)"
    assert e.value.where == "neuron 'nope'"


def test_disk_cache_off_compiles_the_same_kernel(readme):
    m = hamuxc.load(model_path("readme"), disk_cache=False)
    assert not m.disk_cache and readme.disk_cache
    a, b = readme.normal(3, 2), m.normal(3, 2)
    readme.run(a, steps=10)
    m.run(b, steps=10)
    np.testing.assert_array_equal(a["hidden"], b["hidden"])
