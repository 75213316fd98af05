#!/usr/bin/env python3
"""Golden values for hamux from the hamux Python library on JAX (the model's dtype).

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

jax.config.update("jax_enable_x64", False)  # float32, like the models (golden() sets it per model)

STEPS = 40
RECORD = (20, 40)  # steps at which the full states are stored


# ---- Lagrangians and synapses of the model format, on top of the hamux library ----

# Custom expressions of the contract models, written by hand in JAX. A model's expression must
# equal the key exactly (compared as canonical JSON); a new custom energy needs a new entry.
def _canonical(expr):
    return json.dumps(expr, sort_keys=True)


HAND_WRITTEN_LAGRANGIANS = {
    # custom_energies, neuron a: L = sum(relu(x)^3 / 3)
    _canonical({"inputs": ["x"], "let": {"p": ["relu", "x"]},
                "value": ["sum", ["mul", 0.3333333333333333, ["pow", "p", 3]]]}):
        lambda x: jnp.sum(jnp.maximum(x, 0) ** 3) / 3,
}

HAND_WRITTEN_SYNAPSES = {
    # classical_hopfield: E = -1/2 a . (W b)
    _canonical({"inputs": ["a", "b"], "value": ["mul", -0.5, ["dot", "a", ["matmul", "W", "b"]]]}):
        lambda p: lambda a, b: -0.5 * jnp.dot(a, p["W"] @ b),
    # custom_energies: E = -logcosh(sum_ijk T_ijk ga_i gb_j gc_k)
    _canonical({"inputs": ["ga", "gb", "gc"],
                "let": {"t": ["einsum", "T", "ga", "gb", "gc", {"spec": "ijk,i,j,k->"}]},
                "value": ["neg", ["logcosh", "t"]]}):
        lambda p: lambda ga, gb, gc: -_logcosh(jnp.einsum("ijk,i,j,k->", p["T"], ga, gb, gc)),
    # energy_transformer: E = -8 sum_{h,q} logsumexp_k(0.125 q_qh . k_kh)
    _canonical({"inputs": ["g"],
                "let": {"q": ["einsum", "Wq", "g", {"spec": "hyd,td->thy"}],
                        "k": ["einsum", "Wk", "g", {"spec": "hyd,td->thy"}],
                        "s": ["einsum", "q", "k", {"spec": "qhy,khy->hqk"}]},
                "value": ["mul", -8.0, ["sum", ["logsumexp", ["mul", 0.125, "s"], {"axis": -1}]]]}):
        lambda p: _attention_energy(p["Wq"], p["Wk"], beta=0.125),
}


def _logcosh(t):
    # log cosh t = |t| + log1p(exp(-2|t|)) - log 2, without overflow for large |t|
    a = jnp.abs(t)
    return a + jnp.log1p(jnp.exp(-2 * a)) - jnp.log(2.0)


def _attention_energy(Wq, Wk, beta):
    def energy(g):  # g: [tokens, D]
        q = jnp.einsum("hyd,td->thy", Wq, g)
        k = jnp.einsum("hyd,td->thy", Wk, g)
        s = jnp.einsum("qhy,khy->hqk", q, k)
        return -jnp.sum(jax.nn.logsumexp(beta * s, axis=-1)) / beta
    return energy


def lagrangian(spec):
    """The Python Lagrangian for a model-format Lagrangian spec."""
    if isinstance(spec, str):
        name, args = spec, {}
    else:
        (name, args), = spec.items()
    if name == "expr":
        key = _canonical(args)
        if key not in HAND_WRITTEN_LAGRANGIANS:
            raise SystemExit("make_golden: this custom Lagrangian has no hand-written JAX version")
        return HAND_WRITTEN_LAGRANGIANS[key]
    table = {
        "identity": lambda x: hmx.lagr_identity(x),
        "relu": lambda x: hmx.lagr_relu(x),
        "tanh": lambda x: hmx.lagr_tanh(x, beta=args.get("beta", 1.0)),
        "sigmoid": lambda x: args.get("scale", 1.0) * hmx.lagr_sigmoid(x, beta=args.get("beta", 1.0)),
        "softmax": lambda x: hmx.lagr_softmax(x, beta=args.get("beta", 1.0), axis=args.get("axis", -1)),
        "spherical_norm": lambda x: hmx.lagr_spherical_norm(
            x, gamma=args.get("gamma", 1.0), delta=args.get("delta", 0.0),
            axis=args.get("axis", -1), eps=args.get("eps", 1e-5)),
        "layernorm": lambda x: hmx.lagr_layernorm(
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
    if name == "bias":
        b = params[args["b"]]
        return lambda x: -jnp.sum(b * x)
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
    if name == "expr" and _canonical(args) in HAND_WRITTEN_SYNAPSES:
        return HAND_WRITTEN_SYNAPSES[_canonical(args)](params)
    raise SystemExit(f"make_golden: synapse '{name}' is not mapped yet")


# ---- parameters and states ----

def make_params(model, model_dir, rng, param_std, dtype):
    """Seeded params (of the model's dtype); file-initialised params are read from their file."""
    params, stored = {}, {}
    for name, p in model["params"].items():
        init = p["init"]
        if "file" in init:
            params[name] = np.load(os.path.join(model_dir, init["file"]["path"])).astype(dtype)
        else:
            value = (param_std[name] * rng.standard_normal(p["shape"])).astype(dtype)
            params[name] = value
            stored[name] = value
    return params, stored


BIAS_PREFIX = "bias of neuron "  # the extra connection that carries a neuron bias (see build_ham)


def build_ham(model, params):
    """The Python HAM of a model.

    A neuron with a bias b has, in hamux, the energy (x - b) . xhat - L(x - b). The Python
    library's layers have no bias; the same energy is a layer with the shifted Lagrangian
    L(x - b) (energy x . xhat - L(x - b)) plus a one-neuron connection -b . xhat. tree_terms
    folds that connection back into the neuron's term."""
    jparams = {k: jnp.asarray(v) for k, v in params.items()}
    neurons, synapses, connections = {}, {}, []
    for n, v in model["neurons"].items():
        L = lagrangian(v["lagrangian"])
        if "bias" in v:
            b = jparams[v["bias"]]
            neurons[n] = hmx.NeuronLayer(lagrangian=lambda x, L=L, b=b: L(x - b), shape=tuple(v["shape"]))
            synapses[BIAS_PREFIX + n] = lambda g, b=b: -jnp.sum(b * g)
        else:
            neurons[n] = hmx.NeuronLayer(lagrangian=L, shape=tuple(v["shape"]))
    synapses.update({s: synapse(spec, jparams) for s, spec in model["synapses"].items()})
    connections = [(tuple(c["neurons"]), c["synapse"]) for c in model["connections"]]
    connections += [((n,), BIAS_PREFIX + n) for n, v in model["neurons"].items() if "bias" in v]
    return hmx.HAM(neurons=neurons, hypersynapses=synapses, connections=connections).vectorize()


def tree_terms(model, ham, xhats, xs):
    """The energy tree with hamux's term names: 'neuron N', 'connection A,B -> S'."""
    tree = ham.energy_tree(xhats, xs)
    terms = {}
    for n in model["neurons"]:
        terms[f"neuron {n}"] = np.asarray(tree["neurons"][n], np.float64)
    n_model = len(model["connections"])
    for c, e in zip(model["connections"], tree["connections"][:n_model]):
        terms[f"connection {','.join(c['neurons'])} -> {c['synapse']}"] = np.asarray(e, np.float64)
    biased = [n for n, v in model["neurons"].items() if "bias" in v]
    for n, e in zip(biased, tree["connections"][n_model:]):
        terms[f"neuron {n}"] = terms[f"neuron {n}"] + np.asarray(e, np.float64)
    return {k: v.tolist() for k, v in terms.items()}


def golden(model_path, out_dir, batch, dt, seed, param_std, state_std):
    model_dir = os.path.dirname(os.path.abspath(model_path))
    with open(model_path) as f:
        model = json.load(f)
    key = os.path.splitext(os.path.basename(model_path))[0]
    rng = np.random.default_rng(seed)
    # float64 models are checked in float64 on both sides; JAX needs x64 switched on for them.
    dtype = np.float64 if model.get("dtype") == "float64" else np.float32
    jax.config.update("jax_enable_x64", dtype == np.float64)
    params, stored = make_params(model, model_dir, rng, param_std, dtype)
    ham = build_ham(model, params)
    taus = {n: float(v.get("tau", 1.0)) for n, v in model["neurons"].items()}

    xs = {n: (state_std.get(n, 1.0) * rng.standard_normal((batch, *v["shape"]))).astype(dtype)
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
        "seed": seed, "taus": taus, "dtype": np.dtype(dtype).name,
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
    "custom_energies.json": dict(batch=3, dt=0.1, seed=15, param_std={"T": 0.5, "b": 0.3},
                                 state_std={}),
    "energy_transformer.json": dict(batch=2, dt=0.1, seed=16,
                                    param_std={"Wq": 0.02, "Wk": 0.02, "Xi": 0.05}, state_std={}),
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
