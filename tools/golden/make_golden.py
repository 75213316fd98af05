#!/usr/bin/env python3
"""Golden values for hamux from the hamux Python library on JAX (float32).

For each contract model this script builds the same HAM with the Python library
(hamux.NeuronLayer + hamux lagrangians + synapses written as small energy functions), at a
seeded batch of states and seeded parameters, and records:

  * the total energy and the energy tree (one term per neuron, one per connection),
  * dE/dxhat of every neuron (HAM.dEdact),
  * a 40-step explicit Euler trajectory x <- x - (dt / tau) * dE/dxhat: the energy after every
    step, the states after 20 and after 40 steps.

Fixtures go to tests/golden/data/<model>.npz (params, initial states, gradients, states) and
<model>.json (scalars: dt, steps, energies, energy tree). tests/golden/golden_test.cpp loads the
same model with hamux, loads the params from the .npz and checks hamux against them, without JAX.

The params are drawn here (numpy, seeded) and stored in the fixture rather than taken from
the model's own init, so that both sides provably use the same weights: hamux loads them with
Ham::load_params. Params whose init is a file (classical_hopfield's Hebbian W) are read from
that file and not stored again.

Run through tools/golden/make_golden.sh, which creates the virtual environment from PyPI.
"""
import argparse
import json
import os
import sys

import numpy as np

import jax
import jax.numpy as jnp
import hamux as hmx

jax.config.update("jax_enable_x64", False)  # float32, like the models

STEPS = 40
RECORD = (20, 40)  # steps at which the full states are stored


# ---- Lagrangians and synapses of the model format, on top of the hamux library ----

def lagrangian(spec):
    """The Python Lagrangian for a model-format Lagrangian spec."""
    if isinstance(spec, str):
        name, args = spec, {}
    else:
        (name, args), = spec.items()
    table = {
        "identity": lambda x: hmx.lagr_identity(x),
        "relu": lambda x: hmx.lagr_relu(x),
        "tanh": lambda x: hmx.lagr_tanh(x, beta=args.get("beta", 1.0)),
        "softmax": lambda x: hmx.lagr_softmax(x, beta=args.get("beta", 1.0), axis=args.get("axis", -1)),
        "spherical_norm": lambda x: hmx.lagr_spherical_norm(
            x, gamma=args.get("gamma", 1.0), delta=args.get("delta", 0.0),
            axis=args.get("axis", -1), eps=args.get("eps", 1e-5)),
    }
    if name not in table:
        raise SystemExit(f"make_golden: lagrangian '{name}' is not mapped yet")
    return table[name]


def synapse(spec, params):
    """A callable energy for a model-format synapse spec (per sample, unbatched)."""
    (name, args), = spec.items()
    if name == "linear":
        return hmx.LinearSynapse(W=params[args["W"]])
    if name == "hopfield":
        Xi = params[args["Xi"]]
        L = lagrangian(args.get("lagrangian", "softmax"))
        return lambda x: -L(x @ Xi)
    if name == "conv2d":
        K = params[args["W"]]  # HWIO, like the model format
        strides = tuple(args.get("strides", [1, 1]))
        padding = args.get("padding", "VALID")

        def conv_energy(x1, x2):
            y = jax.lax.conv_general_dilated(x1[None], K, window_strides=strides, padding=padding,
                                             dimension_numbers=("NHWC", "HWIO", "NHWC"))
            return -jnp.sum(x2 * y[0])
        return conv_energy
    if name == "expr" and args.get("value") == ["mul", -0.5, ["dot", "a", ["matmul", "W", "b"]]]:
        # classical_hopfield's custom energy, written by hand: E = -1/2 a . (W b)
        W = params["W"]
        return lambda a, b: -0.5 * jnp.dot(a, W @ b)
    raise SystemExit(f"make_golden: synapse '{name}' is not mapped yet")


# ---- parameters and states ----

def make_params(model, model_dir, rng, param_std):
    """Seeded params (float32); file-initialised params are read from their file."""
    params, stored = {}, {}
    for name, p in model["params"].items():
        init = p["init"]
        if "file" in init:
            params[name] = np.load(os.path.join(model_dir, init["file"]["path"])).astype(np.float32)
        else:
            value = (param_std[name] * rng.standard_normal(p["shape"])).astype(np.float32)
            params[name] = value
            stored[name] = value
    return params, stored


def build_ham(model, params):
    neurons = {n: hmx.NeuronLayer(lagrangian=lagrangian(v["lagrangian"]), shape=tuple(v["shape"]))
               for n, v in model["neurons"].items()}
    jparams = {k: jnp.asarray(v) for k, v in params.items()}
    synapses = {s: synapse(spec, jparams) for s, spec in model["synapses"].items()}
    connections = [(tuple(c["neurons"]), c["synapse"]) for c in model["connections"]]
    return hmx.HAM(neurons=neurons, hypersynapses=synapses, connections=connections).vectorize()


def tree_terms(model, ham, xhats, xs):
    """The energy tree with hamux's term names: 'neuron N', 'connection A,B -> S'."""
    tree = ham.energy_tree(xhats, xs)
    terms = {}
    for n in model["neurons"]:
        terms[f"neuron {n}"] = np.asarray(tree["neurons"][n], np.float64).tolist()
    for c, e in zip(model["connections"], tree["connections"]):
        terms[f"connection {','.join(c['neurons'])} -> {c['synapse']}"] = np.asarray(e, np.float64).tolist()
    return terms


def golden(model_path, out_dir, batch, dt, seed, param_std, state_std):
    model_dir = os.path.dirname(os.path.abspath(model_path))
    with open(model_path) as f:
        model = json.load(f)
    key = os.path.splitext(os.path.basename(model_path))[0]
    rng = np.random.default_rng(seed)
    params, stored = make_params(model, model_dir, rng, param_std)
    ham = build_ham(model, params)
    taus = {n: float(v.get("tau", 1.0)) for n, v in model["neurons"].items()}

    xs = {n: (state_std.get(n, 1.0) * rng.standard_normal((batch, *v["shape"]))).astype(np.float32)
          for n, v in model["neurons"].items()}
    arrays = {f"param/{k}": v for k, v in stored.items()}
    arrays.update({f"x0/{n}": v for n, v in xs.items()})

    @jax.jit
    def evaluate(xs):
        xhats = ham.activations(xs)
        energy, grads = ham.dEdact(xhats, xs, True)
        return xhats, energy, grads

    @jax.jit
    def step(xs):
        xhats = ham.activations(xs)
        grads = ham.dEdact(xhats, xs)
        return {n: xs[n] - (dt / taus[n]) * grads[n] for n in xs}

    jxs = {n: jnp.asarray(v) for n, v in xs.items()}
    xhats, energy0, grads = evaluate(jxs)
    for n in xs:
        arrays[f"xhat0/{n}"] = np.asarray(xhats[n])
        arrays[f"dEdxhat0/{n}"] = np.asarray(grads[n])
    scalars = {
        "model": os.path.basename(model_path), "batch": batch, "dt": dt, "steps": STEPS,
        "seed": seed, "taus": taus,
        "energy0": np.asarray(energy0, np.float64).tolist(),
        "tree0": tree_terms(model, ham, xhats, jxs),
        "trajectory_energy": [np.asarray(energy0, np.float64).tolist()],
        "jax": jax.__version__, "hamux_python": getattr(hmx, "__version__", "0.2.2"),
    }
    for t in range(1, STEPS + 1):
        jxs = step(jxs)
        _, e, _ = evaluate(jxs)
        scalars["trajectory_energy"].append(np.asarray(e, np.float64).tolist())
        if t in RECORD:
            for n in xs:
                arrays[f"x{t}/{n}"] = np.asarray(jxs[n])
    # The scalars again as arrays, so that the C++ test needs no JSON reader.
    arrays["energy0"] = np.asarray(scalars["energy0"])
    arrays["trajectory_energy"] = np.asarray(scalars["trajectory_energy"])  # [steps + 1, batch]
    for term, values in scalars["tree0"].items():
        arrays[f"tree0/{term}"] = np.asarray(values)
    arrays["dt"] = np.asarray(dt)
    np.savez(os.path.join(out_dir, f"{key}.npz"), **arrays)
    with open(os.path.join(out_dir, f"{key}.json"), "w") as f:
        json.dump(scalars, f, indent=1)
    print(f"{key}: E0 = {scalars['energy0']}, E{STEPS} = {scalars['trajectory_energy'][-1]}")


# Per model: batch, dt (brief section 4), seed and the spread of params and states. The params
# are larger than the models' default init so that the dynamics actually move (a 0.02-std
# readme model barely does, and would check little).
CASES = {
    "readme.json": dict(batch=3, dt=0.1, seed=11, param_std={"W1": 0.5, "W2": 0.5}, state_std={}),
    "dense_am.json": dict(batch=2, dt=0.5, seed=12, param_std={"Xi": 0.15}, state_std={}),
    "classical_hopfield.json": dict(batch=2, dt=0.1, seed=13, param_std={}, state_std={"v": 0.3}),
    "conv.json": dict(batch=2, dt=0.1, seed=14, param_std={"K": 0.2}, state_std={}),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=os.path.join(root, "examples", "models"))
    ap.add_argument("--out", default=os.path.join(root, "tests", "golden", "data"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name, case in CASES.items():
        golden(os.path.join(a.models, name), a.out, **case)


if __name__ == "__main__":
    sys.exit(main())
