#!/usr/bin/env python3
"""Writes a model with many small neuron layers, for the load-time scaling benchmark.

usage: make_scaling_model.py N [--shape S] [--star] > model.json

N layers n0..n{N-1} of shape [S] (default 4), Lagrangians cycling through softmax, tanh,
sigmoid and identity, joined in a chain n0-n1-...-n{N-1} by one `linear` synapse per pair
with its own weight matrix (N-1 params), plus a bias synapse on every layer; --star joins
every layer to n0 instead (one neuron with N-1 connections, so its update is a sum of
N-1 terms). This is the model `hamux_bench --benchmark_filter=load/` builds in memory
(bench/bench_load.cpp, scaling_model_json); docs/performance.md, "Load time scaling".
"""
import argparse
import json
import sys

LAGRANGIANS = ["softmax", {"tanh": {"beta": 1.0}}, {"sigmoid": {"beta": 1.0}}, "identity"]


def model(n, shape, star):
    params, neurons, synapses, connections = {}, {}, {}, []
    for i in range(n):
        neurons[f"n{i}"] = {"shape": [shape], "lagrangian": LAGRANGIANS[i % len(LAGRANGIANS)]}
        params[f"b{i}"] = {"shape": [shape], "init": {"normal": {"std": 0.1}}}
        synapses[f"s_b{i}"] = {"bias": {"b": f"b{i}"}}
        connections.append({"neurons": [f"n{i}"], "synapse": f"s_b{i}"})
    for i in range(1, n):
        j = 0 if star else i - 1
        params[f"W{i}"] = {"shape": [shape, shape], "init": {"normal": {"std": 0.1}}}
        synapses[f"s{i}"] = {"linear": {"W": f"W{i}"}}
        connections.append({"neurons": [f"n{j}", f"n{i}"], "synapse": f"s{i}"})
    return {"hamux": "1", "name": f"scaling-{n}", "seed": 0, "params": params,
            "neurons": neurons, "synapses": synapses, "connections": connections}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--shape", type=int, default=4)
    ap.add_argument("--star", action="store_true")
    a = ap.parse_args()
    json.dump(model(a.n, a.shape, a.star), sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
