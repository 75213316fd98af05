#!/usr/bin/env python3
"""Tables for docs/performance.md from one benchmark run.

    python3 bench/summarize.py hamux_bench.json                # step and compile tables
    python3 bench/summarize.py hamux_bench.json --jax jax.json  # the JAX table (scripts/bench.sh)
    python3 bench/summarize.py hamux_bench2.json --jax jax2.json --threads 2

hamux_bench.json: Google Benchmark JSON of build/bench/hamux_bench (medians of repetitions).
jax.json: the output of tools/golden/bench_jax.py, from the same run.

Peak FLOP rate of one core, from lscpu: GHz x FLOPs/cycle, where FLOPs/cycle for float32 is
2 FMA units x (16 lanes with AVX-512, 8 with AVX2) x 2 FLOPs per FMA = 64 (AVX-512) or 32
(AVX2). Two FMA units is an assumption (most server cores since Skylake-SP have two; some
have one: then the true peak is half and the percentages double). The GHz is the nominal
clock from the model name (or lscpu's max MHz); turbo clocks are not counted.
"""
import argparse
import json
import re
import subprocess

WORKLOADS = ("W1", "W2", "W3", "W4", "W5")

# FLOPs per step of the whole batch: the contractions only (the elementwise work is
# O(batch x neurons) and below 2% of these for W1, W2, W4, W5).
#   W1: one 256x1024x1024 GEMM per step (W + W^T is formed once):  2 * 256 * 1024^2
#   W2: xhat @ Xi and its transpose, 100x784x900 each:              2 * 2 * 100 * 784 * 900
#   W3: two tiny linear synapses, forward and back:                 2 * 2 * (7*9 + 8*9)
#   W4: per sample (64 tokens, D 256, 4 heads x 64, 1024 memories): the q and k projections
#       forward and back (4 x 2*4*64*256*64), the scores and their two gradients
#       (3 x 2*4*64*64*64), the memory forward and back (2 x 2*64*256*1024); batch 8
#   W5: conv 3x3, 3 -> 16 channels on 32x32, forward and transpose: 2 * 2 * 32 * 1024 * 27 * 16
FLOPS = {
    "W1": 2 * 256 * 1024 ** 2,
    "W2": 2 * 2 * 100 * 784 * 900,
    "W3": 2 * 2 * (7 * 9 + 8 * 9),
    "W4": 8 * (4 * 2 * 4 * 64 * 256 * 64 + 3 * 2 * 4 * 64 * 64 * 64 + 2 * 2 * 64 * 256 * 1024),
    "W5": 2 * 2 * 32 * 1024 * 27 * 16,
}


def peak_gflops():
    """(GHz, float32 FLOPs per cycle, CPU name) of one core, from lscpu."""
    text = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
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
    """{benchmark name: seconds per step (or per compile)} from the median aggregates."""
    data = json.load(open(path))
    med = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            name = re.sub(r"/(min_time:[^/]*|real_time)", "", b["run_name"])
            med[name] = b.get("per_step", b["real_time"] / {"ms": 1e3, "us": 1e6, "ns": 1e9}[b["time_unit"]])
    return med, data["context"]


def ms(v):
    return "-" if v is None else f"{v * 1e3:.4g}"


def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def gflops(w, t):
    return "-" if t is None or w not in FLOPS else f"{FLOPS[w] / t / 1e9:.3g}"


def step_tables(med, ctx):
    print("context:", json.dumps({k: ctx.get(k) for k in ("date", "host_name", "num_cpus", "mhz_per_cpu", "load_avg")}))
    print()
    print("| workload | threads | jit ms/step | eigen ms/step | interp ms/step | jit/eigen | interp/jit "
          "| jit GFLOP/s | jit scalar math ms/step |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for w in WORKLOADS:
        for t in (1, 2):
            jit = med.get(f"step/{w}/jit/threads:{t}")
            if jit is None:
                continue
            eig = med.get(f"step/{w}/eigen/threads:{t}")
            itp = med.get(f"step/{w}/interp/threads:1") if t == 1 else None
            sca = med.get(f"step/{w}/jit_scalar_math/threads:1") if t == 1 else None
            print(f"| {w} | {t} | {ms(jit)} | {ms(eig)} | {ms(itp)} | {ratio(jit, eig)} | "
                  f"{ratio(itp, jit)} | {gflops(w, jit)} | {ms(sca)} |")
    print()
    print("| model | cold ms | disk hit ms | memory hit ms | derive ms |")
    print("| --- | --- | --- | --- | --- |")
    for m in sorted({n.split("/")[1] for n in med if n.startswith("compile/")}):
        g = lambda k: f"{med[k] * 1e3:.3g}" if k in med else "-"
        print(f"| {m} | {g(f'compile/{m}/cold')} | {g(f'compile/{m}/disk')} | {g(f'compile/{m}/memory')} | "
              f"{g(f'derive/{m}')} |")


def jax_table(med, ctx, jax_t, threads):
    ghz, per_cycle, cpu = peak_gflops()
    peak = ghz * per_cycle * threads if ghz else None
    print(f"machine: {cpu}, {ctx.get('num_cpus')} cpus, load average {ctx.get('load_avg')}, date {ctx.get('date')}")
    print(f"versions: jax {jax_t.get('jax_version')}, hamux (python) 0.2.2")
    if peak:
        print(f"peak ({threads} core(s), float32): {threads} x {ghz} GHz x {per_cycle} FLOP/cycle = {peak:.0f} GFLOP/s")
    if threads == 1:
        print("threads: 1 (all processes pinned with taskset -c 0; hamux_bench threads:1; "
              "XLA --xla_cpu_multi_thread_eigen=false)")
    else:
        print(f"threads: {threads} (processes on cores 0-{threads - 1}; hamux_bench threads:{threads}; "
              "XLA's default thread pool)")
    print()
    print("| workload | hamux jit ms/step | eigen ms/step | jax ms/step | jit/eigen | jax/jit "
          "| jit GFLOP/s | jit % of peak | jax GFLOP/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for w in WORKLOADS:
        jit = med.get(f"step/{w}/jit/threads:{threads}")
        eig = med.get(f"step/{w}/eigen/threads:{threads}")
        jx = jax_t.get(w)
        pct = "-" if jit is None or not peak else f"{100 * FLOPS[w] / jit / 1e9 / peak:.1f}"
        print(f"| {w} | {ms(jit)} | {ms(eig)} | {ms(jx)} | {ratio(jit, eig)} | {ratio(jx, jit)} | "
              f"{gflops(w, jit)} | {pct} | {gflops(w, jx)} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench_json")
    ap.add_argument("--jax", help="tools/golden/bench_jax.py output: print the JAX table only")
    ap.add_argument("--threads", type=int, default=1, help="the thread count of the JAX table")
    a = ap.parse_args()
    med, ctx = medians(a.bench_json)
    if a.jax:
        jax_table(med, ctx, json.load(open(a.jax)), a.threads)
    else:
        step_tables(med, ctx)


if __name__ == "__main__":
    main()
