"""States as NumPy arrays: dtype and shape handling, set/get, views, clamps, save/load."""
import numpy as np
import pytest

import hamuxc
from conftest import GOLDEN, cached_model, model_path


def test_zeros_and_normal_shapes_and_dtypes(readme):
    s = readme.zeros(5)
    assert s.batch == 5 and s.model is readme
    assert s["input"].shape == (5, 7) and s["input"].dtype == np.float32
    assert not s["hidden"].any()
    n = readme.normal(5, seed=3, std=2.0)
    assert n.to_dict().keys() == {"input", "labels", "hidden"}
    assert 1.0 < float(np.std(n["hidden"])) < 3.0
    np.testing.assert_array_equal(readme.normal(5, 3, 2.0)["input"], n["input"])  # seeded
    assert not np.array_equal(readme.normal(5, 4)["input"], n["input"])
    assert repr(s) == "<hamuxc.States of 'hamux-readme': batch 5>"


def test_tensor_shaped_neuron():
    m = cached_model("conv")
    s = m.zeros(2)
    for n in m.neurons:
        assert s[n.name].shape == (2,) + n.shape


def test_set_broadcasts_one_sample_or_takes_the_batch(readme):
    s = readme.zeros(3)
    s.set("input", np.arange(7))
    np.testing.assert_array_equal(s["input"], np.tile(np.arange(7, dtype=np.float32), (3, 1)))
    batch = np.arange(21, dtype=np.float64).reshape(3, 7) / 3
    s["input"] = batch
    np.testing.assert_array_equal(s["input"], batch.astype(np.float32))  # rounded to the model's dtype
    s.set("input", [1, 2, 3, 4, 5, 6, 7], sample=1)
    np.testing.assert_array_equal(s["input"][1], np.arange(1, 8, dtype=np.float32))
    np.testing.assert_array_equal(s["input"][0], batch[0].astype(np.float32))
    # Non-contiguous and Fortran-ordered input is read element by element correctly.
    f = np.asfortranarray(np.arange(21, dtype=np.float32).reshape(3, 7))
    s["input"] = f
    np.testing.assert_array_equal(s["input"], f)
    s["input"] = np.arange(42, dtype=np.float32).reshape(3, 14)[:, ::2]
    np.testing.assert_array_equal(s["input"], np.arange(42, dtype=np.float32).reshape(3, 14)[:, ::2])


def test_float32_values_round_trip_bit_for_bit(readme):
    s = readme.zeros(2)
    x = np.random.default_rng(0).standard_normal((2, 7)).astype(np.float32)
    s["input"] = x
    assert s["input"].tobytes() == x.tobytes()


def test_get_is_a_copy_and_view_is_not(readme):
    s = readme.normal(2, 1)
    got = s.get("input")
    got[:] = 0
    assert s["input"].any()
    v = s.view("input")
    assert not v.flags.writeable and v.dtype == np.float32
    before = v.copy()
    readme.run(s, steps=5)
    assert not np.array_equal(v, before)  # the view shows the buffer as it is now
    np.testing.assert_array_equal(v, s["input"])
    del s
    assert v.shape == (2, 7)  # the view keeps the states alive


def test_set_errors_have_the_exact_messages(readme):
    s = readme.zeros(2)
    with pytest.raises(hamuxc.Error) as e:
        s.set("input", np.zeros(3))
    assert str(e.value) == "neuron 'input': state of shape [3] does not fit: expected [7] or [2,7]"
    assert (e.value.where, e.value.cause) == ("neuron 'input'", "state of shape [3] does not fit: expected [7] or [2,7]")
    with pytest.raises(hamuxc.Error) as e:
        s.set("input", np.zeros(7), sample=5)
    assert str(e.value) == "neuron 'input': sample 5 is outside the batch of 2"
    with pytest.raises(hamuxc.Error) as e:
        s["nope"] = 1.0
    assert e.value.where == "neuron 'nope'"
    with pytest.raises(hamuxc.Error) as e:
        readme.zeros(0)
    assert str(e.value) == "batch: must be at least 1, got 0"
    with pytest.raises(ValueError):
        s["input"] = "abc"


def test_clamp_whole_neuron_and_masks(readme):
    s = readme.normal(2, 9)
    x0 = s.to_dict()
    s.clamp("input")
    mask = np.zeros(9)
    mask[:4] = 1
    s.clamp("hidden", mask)
    per_sample = np.zeros((2, 8))
    per_sample[0, 0] = per_sample[1, 7] = 1
    s.clamp("labels", per_sample)
    assert set(s.clamps) == {"input", "hidden", "labels"} and s.clamps["input"] is None
    np.testing.assert_array_equal(s.clamps["labels"], per_sample)
    readme.run(s, steps=25)
    assert s["input"].tobytes() == x0["input"].tobytes()
    assert s["hidden"][:, :4].tobytes() == x0["hidden"][:, :4].tobytes()
    assert not np.array_equal(s["hidden"][:, 4:], x0["hidden"][:, 4:])
    assert s["labels"][0, 0] == x0["labels"][0, 0] and s["labels"][1, 7] == x0["labels"][1, 7]
    assert s["labels"][1, 0] != x0["labels"][1, 0] and s["labels"][0, 7] != x0["labels"][0, 7]
    s.unclamp("input")
    assert "input" not in s.clamps
    readme.run(s, steps=1)
    assert not np.array_equal(s["input"], x0["input"])


def test_clamp_mask_errors(readme):
    s = readme.zeros(2)
    with pytest.raises(hamuxc.Error) as e:
        s.clamp("input", np.zeros(3))
    assert str(e.value) == "neuron 'input': clamp mask of shape [3] does not fit: expected [7] or [2,7]"


def test_clone_is_independent_and_keeps_clamps(readme):
    s = readme.normal(2, 1)
    s.clamp("input")
    c = s.clone()
    readme.run(c, steps=3)
    assert c.clamps == {"input": None}
    assert not np.array_equal(c["hidden"], s["hidden"])
    np.testing.assert_array_equal(c["input"], s["input"])


def test_activations_energy_and_updates_match_the_jax_golden_fixture():
    # The committed JAX values at the fixture's states (tests/golden/data; float32 JAX).
    m = hamuxc.load(model_path("readme"))
    f = np.load(GOLDEN / "readme.npz")
    m.set_params({k[6:]: f[k] for k in f.files if k.startswith("param/")})
    s = m.zeros(f["x0/input"].shape[0])
    for n in m.neuron_names:
        s[n] = f["x0/" + n]
    acts = s.activations()
    for n in m.neuron_names:
        np.testing.assert_allclose(acts[n], f["xhat0/" + n], rtol=0, atol=1e-5 * (1 + np.abs(f["xhat0/" + n]).max()))
        np.testing.assert_allclose(s.updates(n), f["dEdxhat0/" + n], rtol=0,
                                   atol=1e-5 * (1 + np.abs(f["dEdxhat0/" + n]).max()))
        assert s.activation(n).dtype == np.float32 and s.updates(n).shape == s[n].shape
    np.testing.assert_allclose(s.energy(), f["energy0"], rtol=1e-5, atol=1e-5)
    assert s.energy().dtype == np.float32


def test_updates_are_the_euler_step_direction(readme):
    # One step moves x by -(dt / tau) dE/dxhat (clamped elements excepted).
    s = readme.normal(3, 2)
    x0 = s["hidden"].astype(np.float64)
    u = s.updates("hidden").astype(np.float64)
    readme.run(s, steps=1, dt=0.5)
    np.testing.assert_allclose(s["hidden"], x0 - 0.5 * u, rtol=0, atol=1e-6)


def test_save_and_load_states(readme, tmp_path):
    s = readme.normal(4, 3)
    s.save(str(tmp_path / "s.npz"))
    with np.load(tmp_path / "s.npz") as z:
        np.testing.assert_array_equal(z["hidden"], s["hidden"])
    back = readme.load_states(str(tmp_path / "s.npz"))
    assert back.batch == 4
    for n in readme.neuron_names:
        assert back[n].tobytes() == s[n].tobytes()
    np.savez(tmp_path / "bad.npz", input=np.zeros((4, 7), np.float32))
    with pytest.raises(hamuxc.Error) as e:
        readme.load_states(str(tmp_path / "bad.npz"))
    assert e.value.where.startswith(f"{tmp_path}/bad.npz")


def test_energy_tree_terms_add_up_to_the_total(readme):
    s = readme.normal(3, 5)
    tree = readme.energy_tree(s)
    assert list(tree) == ["neuron input", "neuron labels", "neuron hidden", "connection input,hidden -> dense1",
                          "connection labels,hidden -> dense2", "total"]
    parts = sum(v.astype(np.float64) for k, v in tree.items() if k != "total")
    np.testing.assert_allclose(parts, tree["total"], rtol=1e-5)
    np.testing.assert_allclose(s.energy(), tree["total"], rtol=1e-5)
    with pytest.raises(hamuxc.Error) as e:
        cached_model("dense_am").energy_tree(s)
    assert str(e.value) == f"{cached_model('dense_am').source}: the states were made by another model"
