#!/usr/bin/env python3
"""The table of scripts/bench.sh: hamux JIT vs hand-written Eigen vs the JAX hamux library.

    python3 tools/golden/bench_table.py hamux_bench.json jax.json

hamux_bench.json: Google Benchmark JSON of build/bench/hamux_bench (medians of repetitions).
jax.json: the output of tools/golden/bench_jax.py. All numbers come from the same run.

Peak FLOP rate of one core, from lscpu: GHz x FLOPs/cycle, where FLOPs/cycle for float32 is
2 FMA units x (16 lanes with AVX-512, 8 with AVX2) x 2 FLOPs per FMA = 64 (AVX-512) or 32
(AVX2). Two FMA units is an assumption (most server cores since Skylake-SP have two; some
have one: then the true peak is half and the percentages double). The GHz is the nominal
clock from the model name (or lscpu's max MHz); turbo clocks are not counted.
"""
import json
import re
import subprocess
import sys

# FLOPs per step of the whole batch: the contractions only (the elementwise work is
# O(batch x neurons) and below 2% of these for W1, W2, W5).
#   W1: one 256x1024x1024 GEMM per step (W + W^T is formed once):  2 * 256 * 1024^2
#   W2: xhat @ Xi and its transpose, 100x784x900 each:              2 * 2 * 100 * 784 * 900
#   W3: two tiny linear synapses, forward and back:                 2 * 2 * (7*9 + 8*9)
#   W5: conv 3x3, 3 -> 16 channels on 32x32, forward and transpose: 2 * 2 * 32 * 1024 * 27 * 16
FLOPS = {
    "W1": 2 * 256 * 1024 ** 2,
    "W2": 2 * 2 * 100 * 784 * 900,
    "W3": 2 * 2 * (7 * 9 + 8 * 9),
    "W5": 2 * 2 * 32 * 1024 * 27 * 16,
}


def peak_gflops():
    text = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    ghz = None
    m = re.search(r"Model name:.*@\s*([\d.]+)GHz", text)
    if m:
        ghz = float(m.group(1))
    else:
        m = re.search(r"CPU max MHz:\s*([\d.]+)", text)
        ghz = float(m.group(1)) / 1000 if m else None
    flags = re.search(r"Flags:(.*)", text)
    flags = flags.group(1).split() if flags else []
    per_cycle = 64 if "avx512f" in flags else 32 if "avx2" in flags else 8
    name = re.search(r"Model name:\s*(.*)", text)
    return ghz, per_cycle, (name.group(1).strip() if name else "?")


def medians(path):
    data = json.load(open(path))
    med = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            name = re.sub(r"/(min_time:[^/]*|real_time)", "", b["run_name"])
            med[name] = b.get("per_step", b["real_time"] / {"ms": 1e3, "us": 1e6, "ns": 1e9}[b["time_unit"]])
    return med, data["context"]


def main(bench_json, jax_json):
    med, ctx = medians(bench_json)
    jax_t = json.load(open(jax_json))
    ghz, per_cycle, cpu = peak_gflops()
    peak = ghz * per_cycle if ghz else None
    print(f"machine: {cpu}, {ctx.get('num_cpus')} cpus, load average {ctx.get('load_avg')}, date {ctx.get('date')}")
    print(f"versions: jax {jax_t.get('jax_version')}, hamux (python) 0.2.2")
    if peak:
        print(f"peak (1 core, float32): {ghz} GHz x {per_cycle} FLOP/cycle = {peak:.0f} GFLOP/s")
    print("threads: 1 (all processes pinned with taskset -c 0; hamux_bench threads:1; "
          "XLA --xla_cpu_multi_thread_eigen=false)")
    print()
    print("| workload | hamux jit ms/step | eigen ms/step | jax ms/step | jit/eigen | jax/jit "
          "| jit GFLOP/s | jit % of peak | jax GFLOP/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for w in ("W1", "W2", "W3", "W4", "W5"):
        jit = med.get(f"step/{w}/jit/threads:1")
        eig = med.get(f"step/{w}/eigen/threads:1")
        jx = jax_t.get(w)
        f = lambda v: "-" if v is None else f"{v * 1e3:.4g}"
        r = lambda a, b: "-" if a is None or b is None else f"{a / b:.2f}"
        fl = FLOPS.get(w)
        gf = lambda t: "-" if t is None or fl is None else f"{fl / t / 1e9:.3g}"
        pct = "-" if jit is None or fl is None or not peak else f"{100 * fl / jit / 1e9 / peak:.1f}"
        print(f"| {w} | {f(jit)} | {f(eig)} | {f(jx)} | {r(jit, eig)} | {r(jx, jit)} | {gf(jit)} | {pct} | {gf(jx)} |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
