"""Model.gradients (include/hamux/gradients.h): the loss and d loss / d params as dicts of arrays."""
import json

import numpy as np
import pytest

import hamuxc
from conftest import MODELS


@pytest.fixture(scope="module")
def readme64():
    d = json.loads((MODELS / "readme.json").read_text())
    d["dtype"] = "float64"
    m = hamuxc.load(d)
    rng = np.random.default_rng(0)
    m.set_params({"W1": rng.standard_normal((7, 9)) * 0.5, "W2": rng.standard_normal((8, 9)) * 0.5})
    return m


def run_loss(model, states, target, steps, dt):
    """sum (y - t)^2 of the labels' activation after the run, per sample: computed here, from run()."""
    s = states.clone()
    model.run(s, steps=steps, dt=dt)
    return ((s.activation("labels") - target) ** 2).sum(axis=1)


def test_loss_and_param_gradients_match_float64_finite_differences(readme64):
    m = readme64
    s = m.normal(3, 4)
    s.clamp("input")
    target = np.eye(8)[[1, 5, 2]]
    g = m.gradients(s, {"neuron": "labels", "loss": "squared_error"}, target, steps=15, dt=0.1)
    assert set(g) == {"loss", "loss_per_sample", "params", "states", "steps", "converged", "adjoint_iterations",
                      "memory_bytes"}
    per_sample = run_loss(m, s, target, 15, 0.1)
    np.testing.assert_allclose(g["loss_per_sample"], per_sample, rtol=1e-12)
    assert g["loss"] == pytest.approx(per_sample.mean(), rel=1e-12)
    assert g["steps"] == 15 and g["states"] == {}
    w = m.param("W2")
    h = 1e-6
    for (i, j) in [(1, 0), (5, 3), (2, 8)]:
        plus, minus = w.copy(), w.copy()
        plus[i, j] += h
        minus[i, j] -= h
        m.set_param("W2", plus)
        lp = run_loss(m, s, target, 15, 0.1).mean()
        m.set_param("W2", minus)
        lm = run_loss(m, s, target, 15, 0.1).mean()
        m.set_param("W2", w)
        assert g["params"]["W2"][i, j] == pytest.approx((lp - lm) / (2 * h), rel=1e-5, abs=1e-9)
    assert g["params"]["W1"].shape == (7, 9) and g["params"]["W1"].dtype == np.float64
    assert s.clamps == {"input": None}  # the states are not changed


def test_state_gradients_checkpointing_and_implicit(readme64):
    m = readme64
    s = m.normal(2, 1)
    spec = json.dumps({"neuron": "labels", "loss": "cross_entropy"})  # the spec as JSON text
    full = m.gradients(s, spec, np.array([3, 4]), steps=12, state_gradients=True)
    assert full["states"]["hidden"].shape == (2, 9)
    ck = m.gradients(s, spec, np.array([3, 4]), steps=12, checkpoint_every=4)
    np.testing.assert_allclose(ck["params"]["W1"], full["params"]["W1"], rtol=1e-12, atol=1e-15)
    imp = m.gradients(s, spec, np.array([3, 4]), steps=100000, tol=1e-12, method="implicit")
    assert imp["converged"] and imp["adjoint_iterations"] > 0 and imp["steps"] < 100000


def test_stored_and_recomputed_residuals_give_the_same_gradient():
    # dense_am's backward step reads the forward step's softmax (one GEMM per step): stored by
    # default, recomputed with store_residuals=False, which holds less memory.
    d = json.loads((MODELS / "dense_am.json").read_text())
    d["dtype"] = "float64"
    m = hamuxc.load(d)
    s = m.normal(2, 3)
    spec = {"neuron": "image", "loss": "squared_error"}
    target = np.random.default_rng(1).standard_normal((2, 784))
    kept = m.gradients(s, spec, target, steps=6, dt=0.3)
    again = m.gradients(s, spec, target, steps=6, dt=0.3, store_residuals=False)
    np.testing.assert_allclose(again["params"]["Xi"], kept["params"]["Xi"], rtol=1e-12, atol=1e-15)
    assert again["loss"] == kept["loss"]
    assert again["memory_bytes"] < kept["memory_bytes"]


def test_gradient_errors(readme64):
    s = readme64.zeros(2)
    with pytest.raises(hamuxc.Error) as e:
        readme64.gradients(s, {"neuron": "labels", "loss": "squared_error"}, np.zeros(8), method="newton")
    assert str(e.value) == "<json>: method must be 'bptt' or 'implicit', got 'newton'"
    with pytest.raises(hamuxc.Error) as e:
        readme64.gradients(s, {"neuron": "labels", "loss": "squared_error"}, np.zeros(8), steps=-1)
    assert e.value.cause == "steps must be >= 0, got -1"
    with pytest.raises(hamuxc.Error):
        readme64.gradients(s, {"neuron": "nope", "loss": "squared_error"}, np.zeros(8))
