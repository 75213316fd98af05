#!/usr/bin/env python3
"""Golden loss gradients for hamux from the hamux Python library on JAX (issue 15).

For each contract model: the HAM of make_golden.py (same Lagrangians, synapses, seeded params),
a seeded batch of initial states, T = 10 explicit Euler steps x <- x - (dt / tau) * dE/dxhat
(the loop of make_golden.py, unrolled by jax.lax.fori_loop), then the loss

    squared_error on the activation of the model's last neuron:
        mean over the batch of sum over the elements of (xhat - target)^2
    and, for a model with a softmax neuron, cross_entropy on its activation:
        mean over the batch of -log xhat[class]

and jax.grad of it with respect to every param. Fixtures: tests/golden/data/<model>_grad.npz with
param/<name> (the drawn params; file-initialised ones are read by both sides from their file),
x0/<neuron>, loss/<kind>/target, loss/<kind>/per_sample, loss/<kind>/value and
loss/<kind>/grad_index|grad_value|grad_norm/<param> (all elements of small gradients, 512
seeded ones of large ones, and the norm). tests/golden/gradients_golden_test.cpp checks hamux::gradients against
them without JAX.

Run through tools/golden/make_golden.sh --grads (it creates the virtual environment).
"""
import argparse
import json
import os
import sys

import numpy as np

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as mg  # noqa: E402  (same directory)

STEPS = 10


def grad_fixture(model_path, out_dir, batch, dt, seed, param_std, state_std):
    model_dir = os.path.dirname(os.path.abspath(model_path))
    with open(model_path) as f:
        model = json.load(f)
    key = os.path.splitext(os.path.basename(model_path))[0]
    rng = np.random.default_rng(seed + 1000)
    dtype = np.float64 if model.get("dtype") == "float64" else np.float32
    jax.config.update("jax_enable_x64", dtype == np.float64)
    params, stored = mg.make_params(model, model_dir, rng, param_std, dtype)
    taus = {n: float(v.get("tau", 1.0)) for n, v in model["neurons"].items()}
    xs = {n: (state_std.get(n, 1.0) * rng.standard_normal((batch, *v["shape"]))).astype(dtype)
          for n, v in model["neurons"].items()}
    names = list(model["neurons"])
    last = names[-1]
    soft = [n for n, v in model["neurons"].items()
            if (v["lagrangian"] if isinstance(v["lagrangian"], str) else next(iter(v["lagrangian"]))) == "softmax"]

    def final_activations(p):
        ham = mg.build_ham(model, p)

        def body(_, x):
            grads = ham.dEdact(ham.activations(x), x)
            return {n: x[n] - (dt / taus[n]) * grads[n] for n in x}
        x = jax.lax.fori_loop(0, STEPS, body, {n: jnp.asarray(v) for n, v in xs.items()})
        return ham.activations(x)

    losses = {}
    target = rng.uniform(-1, 1, (batch, *model["neurons"][last]["shape"])).astype(dtype)

    def squared_error(p):
        y = final_activations(p)[last]
        per = jnp.sum(((y - target) ** 2).reshape(batch, -1), axis=1)
        return jnp.mean(per), per
    losses["squared_error"] = (squared_error, target)
    if soft:
        n_ce = soft[-1]
        size = int(np.prod(model["neurons"][n_ce]["shape"]))
        classes = (np.arange(batch) * 7 + 3) % size

        def cross_entropy(p):
            y = final_activations(p)[n_ce].reshape(batch, -1)
            per = -jnp.log(y[jnp.arange(batch), classes])
            return jnp.mean(per), per
        losses["cross_entropy"] = (cross_entropy, classes.astype(dtype))

    arrays = {f"param/{k}": np.asarray(v) for k, v in stored.items()}  # file params: hamux reads the same file
    arrays.update({f"x0/{n}": v for n, v in xs.items()})
    arrays["dt"] = np.asarray(dt)
    arrays["steps"] = np.asarray(float(STEPS))
    jparams = {k: jnp.asarray(v) for k, v in params.items()}
    for kind, (fn, tgt) in losses.items():
        (value, per), grads = jax.jit(jax.value_and_grad(fn, has_aux=True))(jparams)
        arrays[f"loss/{kind}/target"] = np.asarray(tgt)
        arrays[f"loss/{kind}/per_sample"] = np.asarray(per)
        arrays[f"loss/{kind}/value"] = np.asarray(value)
        for k, g in grads.items():
            # Large gradients are stored as 512 seeded elements and the norm (keeps the
            # fixtures small); small ones whole.
            flat = np.asarray(g).reshape(-1)
            idx = np.arange(flat.size) if flat.size <= 4096 else \
                np.sort(np.random.default_rng(7).choice(flat.size, 512, replace=False))
            arrays[f"loss/{kind}/grad_index/{k}"] = idx.astype(np.float64)
            arrays[f"loss/{kind}/grad_value/{k}"] = flat[idx]
            arrays[f"loss/{kind}/grad_norm/{k}"] = np.asarray(np.sqrt(np.sum(flat.astype(np.float64) ** 2)))
        print(f"{key}: {kind} = {float(value):.6g}, |grad| = "
              f"{float(np.sqrt(sum(np.sum(np.asarray(g, np.float64) ** 2) for g in grads.values()))):.6g}")
    np.savez(os.path.join(out_dir, f"{key}_grad.npz"), **arrays)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=os.path.join(root, "examples", "models"))
    ap.add_argument("--out", default=os.path.join(root, "tests", "golden", "data"))
    a = ap.parse_args()
    for name, case in mg.CASES.items():
        grad_fixture(os.path.join(a.models, name), a.out, **case)


if __name__ == "__main__":
    sys.exit(main())
