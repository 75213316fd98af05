"""Params as arrays: get, set, load/save .npz and .npy directories; their errors."""
import numpy as np
import pytest

import hamuxc
from conftest import model_path


def test_params_are_arrays_in_the_model_dtype(readme):
    p = readme.params()
    assert list(p) == ["W1", "W2"]
    assert p["W1"].shape == (7, 9) and p["W1"].dtype == np.float32
    np.testing.assert_array_equal(readme.param("W2"), p["W2"])
    # normal(std=0.02) init: a sample std near 0.02.
    assert 0.01 < float(np.std(p["W1"])) < 0.03


def test_set_param_changes_the_dynamics(readme):
    s0 = readme.normal(2, 5)
    a = s0.clone()
    readme.run(a, steps=20)
    readme.set_param("W1", np.zeros((7, 9)))
    np.testing.assert_array_equal(readme.param("W1"), np.zeros((7, 9), np.float32))
    b = s0.clone()
    readme.run(b, steps=20)
    # With W1 = 0 the input layer sees no synapse: identity Lagrangian, x decays as (1 - dt)^steps.
    np.testing.assert_allclose(b["input"], s0["input"] * np.float32(0.9) ** 20, rtol=1e-5)
    assert not np.array_equal(a["input"], b["input"])


def test_set_params_from_lists_and_other_dtypes(readme):
    readme.set_params({"W1": np.ones((7, 9), np.int64), "W2": [[0.5] * 9] * 8})
    np.testing.assert_array_equal(readme.param("W1"), np.ones((7, 9), np.float32))
    np.testing.assert_array_equal(readme.param("W2"), np.full((8, 9), 0.5, np.float32))


def test_set_param_errors(readme):
    with pytest.raises(hamuxc.Error) as e:
        readme.set_param("W1", np.zeros(3))
    assert str(e.value) == "param 'W1': shape [3] does not match the model's [7,9]"
    assert (e.value.where, e.value.cause) == ("param 'W1'", "shape [3] does not match the model's [7,9]")
    with pytest.raises(hamuxc.Error) as e:
        readme.param("nope")
    assert str(e.value) == f"param 'nope': unknown param ({model_path('readme')} has: W1, W2)"
    with pytest.raises(ValueError):
        readme.set_param("W1", "not numbers")


def test_save_and_load_npz_round_trip(readme, tmp_path):
    path = tmp_path / "p.npz"
    readme.save_params(str(path))
    with np.load(path) as z:  # numpy reads what hamux writes
        assert sorted(z.files) == ["W1", "W2"]
        np.testing.assert_array_equal(z["W1"], readme.param("W1"))
        assert z["W1"].dtype == np.float32
    other = hamuxc.load(model_path("readme"))
    other.set_params({"W1": np.zeros((7, 9)), "W2": np.zeros((8, 9))})
    other.load_params(str(path))
    np.testing.assert_array_equal(other.param("W2"), readme.param("W2"))


def test_load_params_written_by_numpy_compressed_and_partial(readme, tmp_path):
    w1 = np.arange(63, dtype=np.float32).reshape(7, 9) / 100
    np.savez_compressed(tmp_path / "c.npz", W1=w1)
    before = readme.param("W2")
    readme.load_params(str(tmp_path / "c.npz"))
    np.testing.assert_array_equal(readme.param("W1"), w1)
    np.testing.assert_array_equal(readme.param("W2"), before)  # not in the file: kept


def test_save_params_to_a_directory_of_npy(readme, tmp_path):
    readme.save_params(str(tmp_path / "dir"))
    np.testing.assert_array_equal(np.load(tmp_path / "dir" / "W1.npy"), readme.param("W1"))


def test_load_params_errors(readme, tmp_path):
    with pytest.raises(hamuxc.Error) as e:
        readme.load_params(str(tmp_path / "nothere.npz"))
    assert str(e.value) == f"{tmp_path}/nothere.npz: cannot open file"
    np.savez(tmp_path / "wrong.npz", W1=np.zeros((9, 7), np.float32))
    with pytest.raises(hamuxc.Error) as e:
        readme.load_params(str(tmp_path / "wrong.npz"))
    assert "W1" in str(e.value) and "[9,7]" in str(e.value) and "[7,9]" in str(e.value)
