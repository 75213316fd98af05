"""Pickling models and states (multiprocessing); AOT compile to a folder, against `hamux compile`."""
import json
import multiprocessing
import pickle
import subprocess

import numpy as np
import pytest

import hamuxc
from conftest import MODELS, cached_model, model_path


def test_model_pickles_as_json_and_params(readme):
    readme.set_param("W1", np.full((7, 9), 0.125))
    data = pickle.dumps(readme)
    back = pickle.loads(data)
    assert back.name == readme.name and back.source == readme.source and back.dtype == readme.dtype
    for p in readme.param_names:
        np.testing.assert_array_equal(back.param(p), readme.param(p))
    # The pickle carries the values, not the inits: the params' inits are zeros in its JSON.
    assert all(p["init"] == {"zeros": {}} for p in json.loads(back.json)["params"].values())
    a, b = readme.normal(4, 1), back.normal(4, 1)
    readme.run(a, steps=50)
    back.run(b, steps=50)
    for n in readme.neuron_names:
        assert a[n].tobytes() == b[n].tobytes()


def test_model_with_file_params_pickles_without_the_file():
    d = {"hamux": "1", "params": {"H": {"shape": [1024, 1024], "init": {"file": {"path": "hebbian_1024x1024.npy"}}}},
         "neurons": {"v": {"shape": [1024], "lagrangian": "tanh"}}, "synapses": {"s": {"dense": {"W": "H"}}},
         "connections": [{"neurons": ["v", "v"], "synapse": "s"}]}
    m = hamuxc.load(d, base_dir=MODELS)
    state = list(m.__getstate__())
    state[2] = "/nonexistent"  # another machine: the base directory is not there
    back = hamuxc.Model.__new__(hamuxc.Model)
    back.__setstate__(tuple(state))
    np.testing.assert_array_equal(back.param("H"), m.param("H"))


def test_states_pickle_with_values_and_clamps(readme):
    s = readme.normal(3, 2)
    s.clamp("input")
    mask = np.zeros((3, 9))
    mask[1, 2] = 1
    s.clamp("hidden", mask)
    back = pickle.loads(pickle.dumps(s))
    assert back.batch == 3 and back.model.name == readme.name
    assert back.clamps["input"] is None
    np.testing.assert_array_equal(back.clamps["hidden"], mask)
    readme.run(s, steps=20)
    back.model.run(back, steps=20)
    for n in readme.neuron_names:
        assert s[n].tobytes() == back[n].tobytes()


def test_states_pickled_with_their_model_share_it(readme):
    a, b = pickle.loads(pickle.dumps([readme.zeros(1), readme.zeros(2)]))
    assert a.model is b.model


def test_bad_pickle_state():
    m = hamuxc.Model.__new__(hamuxc.Model)
    with pytest.raises(hamuxc.Error, match="not a pickled hamuxc.Model of this version"):
        m.__setstate__((2, "", "", {}, True, ""))


def relax(model, seed):
    s = model.normal(4, seed)
    model.run(s, steps=40)
    return s.to_dict()


def test_multiprocessing_pool_gives_the_single_process_states():
    m = cached_model("dense_am")
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: everything is unpickled
    with ctx.Pool(2) as pool:
        results = pool.starmap(relax, [(m, 1), (m, 2)])
    for seed, got in zip((1, 2), results):
        want = relax(m, seed)
        for n in m.neuron_names:
            assert got[n].tobytes() == want[n].tobytes()


def test_compile_writes_what_hamux_compile_writes(readme, tmp_path, hamux_binary):
    files = readme.compile(str(tmp_path / "py"))
    names = sorted(p.rsplit("/", 1)[1] for p in files)
    assert names == ["hamux_aot.h", "hamux_readme.h", "hamux_readme.o", "libhamux_readme.a"]
    subprocess.run([hamux_binary, "compile", model_path("readme"), "-o", str(tmp_path / "cli")], check=True,
                   capture_output=True)
    for n in names:
        assert (tmp_path / "py" / n).read_bytes() == (tmp_path / "cli" / n).read_bytes(), n


def test_compile_options(readme, tmp_path, hamux_binary):
    files = readme.compile(str(tmp_path / "f"), params="files", prefix="w3", dtype="float64", cpu="x86-64",
                           target="x86_64-unknown-linux-gnu")
    names = sorted(p.rsplit("/", 1)[1] for p in files)
    assert names == ["hamux_aot.h", "libw3.a", "w3.h", "w3.o", "w3_W1.npy", "w3_W2.npy"]
    w1 = np.load(tmp_path / "f" / "w3_W1.npy")
    assert w1.dtype == np.float64
    # The model keeps its params' float64 values (float32 runs round them when they use them).
    np.testing.assert_allclose(w1, readme.param("W1"), rtol=1e-7)
    subprocess.run([hamux_binary, "compile", model_path("readme"), "-o", str(tmp_path / "cli"), "--params", "files",
                    "--prefix", "w3", "--dtype", "float64", "--cpu", "x86-64", "--target",
                    "x86_64-unknown-linux-gnu"], check=True, capture_output=True)
    for n in ["w3.h", "w3.o", "w3_W1.npy", "w3_W2.npy"]:
        assert (tmp_path / "f" / n).read_bytes() == (tmp_path / "cli" / n).read_bytes(), n


def test_compile_errors(readme, tmp_path):
    with pytest.raises(hamuxc.Error) as e:
        readme.compile(str(tmp_path), params="bad")
    assert str(e.value) == "compile: params must be 'embed' or 'files', got 'bad'"
    with pytest.raises(hamuxc.Error) as e:
        readme.compile(str(tmp_path), dtype="int8")
    assert str(e.value) == "compile: dtype must be 'float32' or 'float64', got 'int8'"
    with pytest.raises(hamuxc.Error) as e:
        readme.compile(str(tmp_path), target="nonsense-triple")
    assert e.value.cause == "aot: unknown target triple 'nonsense-triple'"
