"""Results from Python equal the hamux command's (the C++ API) bit for bit, and match JAX's.

The CLI runs hamux::Ham / hamux::States / hamux::run in its own process; Python calls the same
library through the extension. With the same seeds both must give the same bits. The JAX
golden fixtures (tests/golden/data, made by tools/golden/make_golden.py with the JAX library)
are compared with the tolerances of tests/golden/golden_test.cpp.
"""
import subprocess

import numpy as np
import pytest

import hamuxc
from conftest import CONTRACT_MODELS, GOLDEN, cached_model, model_path


def run_cli(binary, *args):
    p = subprocess.run([binary, *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.parametrize("name", CONTRACT_MODELS)
def test_run_equals_the_cli_bit_for_bit(name, hamux_binary, tmp_path):
    m = cached_model(name)
    out = tmp_path / "cli.npz"
    run_cli(hamux_binary, "run", model_path(name), "--steps", "30", "--dt", "0.05", "--batch", "5",
            "--init", "normal:7", "--out", str(out))
    s = m.normal(5, 7)
    m.run(s, steps=30, dt=0.05)
    with np.load(out) as z:
        assert sorted(z.files) == sorted(m.neuron_names)
        for n in m.neuron_names:
            assert z[n].dtype == m.dtype
            assert z[n].tobytes() == s[n].tobytes(), n


def test_clamped_run_with_params_and_set_state_equals_the_cli(hamux_binary, tmp_path, readme):
    x = np.random.default_rng(3).standard_normal(7).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    mask = (np.arange(9) % 2).astype(np.float32)
    np.save(tmp_path / "mask.npy", mask)
    readme.set_param("W1", np.random.default_rng(4).standard_normal((7, 9)) * 0.3)
    readme.save_params(str(tmp_path / "p.npz"))
    run_cli(hamux_binary, "run", model_path("readme"), "--steps", "40", "--batch", "3", "--init", "normal:2",
            "--set", f"input={tmp_path / 'x.npy'}", "--clamp", "input", "--clamp", f"hidden={tmp_path / 'mask.npy'}",
            "--params", str(tmp_path / "p.npz"), "--threads", "2", "--out", str(tmp_path / "cli.npz"))
    s = readme.normal(3, 2)
    s["input"] = x
    s.clamp("input")
    s.clamp("hidden", mask)
    readme.run(s, steps=40, threads=2)
    cli = readme.load_states(str(tmp_path / "cli.npz"))
    for n in readme.neuron_names:
        assert cli[n].tobytes() == s[n].tobytes(), n


def test_energy_trace_equals_the_cli_csv(hamux_binary, tmp_path, readme):
    run_cli(hamux_binary, "run", model_path("readme"), "--steps", "20", "--batch", "2", "--init", "normal:1",
            "--every", "5", "--trace", str(tmp_path / "t.csv"))
    rows = np.loadtxt(tmp_path / "t.csv", delimiter=",", skiprows=1)
    r = readme.run(readme.normal(2, 1), steps=20, record_every=5)
    np.testing.assert_array_equal(rows[:, 0], r.trace_steps)
    # The CSV has 9 significant digits (%.9g): float32 energies survive exactly.
    np.testing.assert_array_equal(rows[:, 1:].astype(np.float32), r.trace_energy)


def golden(name):
    return np.load(GOLDEN / f"{name}.npz")


def golden_setup(name):
    f = golden(name)
    m = hamuxc.load(model_path(name))
    m.set_params({k[len("param/"):]: f[k] for k in f.files if k.startswith("param/")})
    s = m.zeros(f["x0/" + m.neuron_names[0]].shape[0])
    for n in m.neuron_names:
        s[n] = f["x0/" + n]
    rtol = 1e-12 if m.dtype == np.float64 else 1e-5
    scale = 1 + sum(np.abs(f[k].astype(np.float64)) for k in f.files if k.startswith("tree0/"))
    return f, m, s, rtol, scale


def assert_close(got, want, rtol, what):
    want = want.astype(np.float64)
    assert got.shape == want.shape, what
    assert np.max(np.abs(got.astype(np.float64) - want)) <= rtol * (1 + np.max(np.abs(want))), what


@pytest.mark.parametrize("name", CONTRACT_MODELS)
def test_energy_tree_activations_and_updates_match_jax(name):
    f, m, s, rtol, scale = golden_setup(name)
    assert np.all(np.abs(s.energy() - f["energy0"]) <= rtol * scale)
    tree = m.energy_tree(s)
    assert len(tree) - 1 == sum(k.startswith("tree0/") for k in f.files)
    for term, values in tree.items():
        if term != "total":
            assert np.all(np.abs(values - f["tree0/" + term]) <= rtol * scale), term
    for n in m.neuron_names:
        assert_close(s.activation(n), f["xhat0/" + n], rtol, "xhat of " + n)
        assert_close(s.updates(n), f["dEdxhat0/" + n], rtol, "dE/dxhat of " + n)


@pytest.mark.parametrize("name", CONTRACT_MODELS)
def test_forty_step_trajectory_matches_jax(name):
    f, m, s, rtol, scale = golden_setup(name)
    rtol *= 10  # rounding differences compound over steps (as in golden_test.cpp)
    r = m.run(s, steps=20, dt=float(f["dt"]), record_every=1)
    for n in m.neuron_names:
        assert_close(s[n], f["x20/" + n], rtol, "x20 " + n)
    r2 = m.run(s, steps=20, dt=float(f["dt"]), record_every=1)
    energies = np.concatenate([r.trace_energy, r2.trace_energy[1:]])
    assert energies.shape == f["trajectory_energy"].shape
    assert np.all(np.abs(energies - f["trajectory_energy"]) <= rtol * scale)
    for n in m.neuron_names:
        assert_close(s[n], f["x40/" + n], rtol, "x40 " + n)
