#!/usr/bin/env python3
"""Times the workloads of brief section 4 on the hamux Python library (JAX, CPU, float32).

The whole loop runs under jax.jit with lax.fori_loop: x <- x - (dt / tau) dE/dxhat, the same
explicit Euler step as hamux. Prints one JSON object: {"W1": seconds per step, ...}.
Thread count: XLA_FLAGS alone do not hold XLA's CPU runtime to one thread; scripts/bench.sh
sets --xla_cpu_multi_thread_eigen=false and pins the process to one core with taskset.

    python3 tools/golden/bench_jax.py --models examples/models [--reps 5]
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


def time_workload(models, model_file, batch, steps, dt, reps):
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

    def body(_, xs):
        grads = ham.dEdact(ham.activations(xs), xs)
        return {n: xs[n] - (dt / taus[n]) * grads[n] for n in xs}

    loop = jax.jit(lambda xs: jax.lax.fori_loop(0, steps, body, xs))
    jax.block_until_ready(loop(xs))  # compile and warm up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(loop(xs))
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    out = {w: time_workload(a.models, *spec, a.reps) for w, spec in WORKLOADS.items()}
    out["jax_version"] = jax.__version__
    out["versions"] = f"jax {jax.__version__}, jaxlib {importlib.metadata.version('jaxlib')}, " \
                      f"hamux (Python) {importlib.metadata.version('hamux')}"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
