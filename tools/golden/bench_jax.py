#!/usr/bin/env python3
"""Times the workloads of brief section 4 on the hamux Python library (JAX, CPU, float32).

The whole loop runs under jax.jit with lax.fori_loop: x <- x - (dt / tau) dE/dxhat, the same
explicit Euler step as hamux. Prints one JSON object: {"W1": seconds per step, ...}.
Thread count: XLA_FLAGS alone do not hold XLA's CPU runtime to one thread; scripts/bench.sh
sets --xla_cpu_multi_thread_eigen=false and pins the process to one core with taskset.

    python3 tools/golden/bench_jax.py --models examples/models [--reps 5]

With --grad it times, for W1, W2, W4 and W5, the loss and its gradient with respect to every
param through the same loop: jax.jit(jax.value_and_grad(loss)) with the loss the mean over
the batch of sum (y - 0.5)^2, y the last neuron's activation after the steps (bench/
bench_grad.cpp, grad/W<k>/bptt, is the same on hamux). Prints seconds per call.
"""
import argparse
import importlib.metadata
import json
import os
import sys
import time

import numpy as np
import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import build_ham  # noqa: E402  (the same model -> Python HAM mapping)

# id: (model, batch, steps, dt) - brief section 4. The models map to the Python library as in
# make_golden.py (the layernorm Lagrangian is hamux's own; W4's attention energy is written in JAX).
WORKLOADS = {
    "W1": ("classical_hopfield.json", 256, 100, 0.1),
    "W2": ("dense_am.json", 100, 40, 0.5),
    "W3": ("readme.json", 1, 1000, 0.1),
    "W4": ("energy_transformer.json", 8, 12, 0.1),
    "W5": ("conv.json", 32, 20, 0.1),
}


def median_time(fn, args, reps):
    jax.block_until_ready(fn(*args))  # compile and warm up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def setup(models, model_file, batch):
    path = os.path.join(models, model_file)
    with open(path) as f:
        model = json.load(f)
    rng = np.random.default_rng(0)
    params = {}
    for name, p in model["params"].items():
        if "file" in p["init"]:
            params[name] = np.load(os.path.join(models, p["init"]["file"]["path"])).astype(np.float32)
        else:
            params[name] = (p["init"].get("normal", {}).get("std", 0.05) *
                            rng.standard_normal(p["shape"])).astype(np.float32)
    ham = build_ham(model, params)
    taus = {n: float(v.get("tau", 1.0)) for n, v in model["neurons"].items()}
    xs = {n: jnp.asarray(rng.standard_normal((batch, *v["shape"])).astype(np.float32))
          for n, v in model["neurons"].items()}
    return model, params, ham, taus, xs


def euler(ham, taus, dt, steps, xs):
    def body(_, xs):
        grads = ham.dEdact(ham.activations(xs), xs)
        return {n: xs[n] - (dt / taus[n]) * grads[n] for n in xs}
    return jax.lax.fori_loop(0, steps, body, xs)


def time_workload(models, model_file, batch, steps, dt, reps):
    _, _, ham, taus, xs = setup(models, model_file, batch)
    loop = jax.jit(lambda xs: euler(ham, taus, dt, steps, xs))
    return median_time(loop, (xs,), reps) / steps


def time_gradient(models, model_file, batch, steps, dt, reps):
    model, params, _, taus, xs = setup(models, model_file, batch)
    last = list(model["neurons"])[-1]

    def loss(p, xs):
        ham = build_ham(model, p)  # the params are traced: gradients with respect to each
        y = ham.activations(euler(ham, taus, dt, steps, xs))[last]
        return jnp.mean(jnp.sum(((y - 0.5) ** 2).reshape(batch, -1), axis=1))

    jparams = {k: jnp.asarray(v) for k, v in params.items()}
    return median_time(jax.jit(jax.value_and_grad(loss)), (jparams, xs), reps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--grad", action="store_true", help="loss + param gradients of W1, W2, W4, W5")
    a = ap.parse_args()
    if a.grad:
        out = {w: time_gradient(a.models, *spec, a.reps) for w, spec in WORKLOADS.items() if w != "W3"}
    else:
        out = {w: time_workload(a.models, *spec, a.reps) for w, spec in WORKLOADS.items()}
    out["jax_version"] = jax.__version__
    out["versions"] = f"jax {jax.__version__}, jaxlib {importlib.metadata.version('jaxlib')}, " \
                      f"hamux (Python) {importlib.metadata.version('hamux')}"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
