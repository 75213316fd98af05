#!/usr/bin/env python3
"""The benchmark report of docs/performance.md, from one run of the benchmark tools.

    python3 bench/summarize.py --bench1 hamux_bench.json [--jax1 jax.json]
                               [--bench2 hamux_bench2.json --jax2 jax2.json] [--title TEXT]

hamux_bench*.json: Google Benchmark JSON of build/bench/hamux_bench (medians of repetitions;
--bench1 the 1-thread run with the compile and convolution benchmarks, --bench2 the 2-thread
run). jax*.json: the output of tools/golden/bench_jax.py in the same run, same thread count.
Prints Markdown: the machine, the step-time table per thread count (every engine, ratios,
GFLOP/s against the machine's peak), the compile latencies and the convolution sweep.

Peak FLOP rate of one core: measured by hamux_bench's peak/fma_f32 (12 independent FMA chains
in the widest vectors this CPU runs, chosen at run time; its label names the ISA and width),
which is what the percentages use; peak/fma_f32_avx512 and _avx2 are printed beside it. Also
printed, the nominal peak: GHz x FLOPs/cycle, where FLOPs/cycle for float32 is 2 FMA units x
lanes x 2 = 64 (AVX-512, 16 lanes) or 32 (AVX2, 8 lanes) for the width that ran (from the flags
when no peak was measured), and the GHz is lscpu's model name ("@ 2.50GHz"), else
its max MHz, else /proc/cpuinfo's "cpu MHz" (a virtual machine's TSC rate, not its turbo clock).
"""
import argparse
import json
import re
import subprocess

WORKLOADS = ("W1", "W2", "W3", "W4", "W5")
ENGINES = ("jit", "aot", "aotlib", "run", "eigen")

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


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout
    except OSError:
        return ""


def cpu():
    """(model name, GHz or None, float32 FLOPs per cycle, flags text) of this machine."""
    lscpu = run(["lscpu"])
    name = re.search(r"Model name:\s*(.*)", lscpu)
    name = name.group(1).strip() if name else "?"
    ghz = None
    m = re.search(r"@\s*([\d.]+)GHz", name)
    if m:
        ghz = float(m.group(1))
    else:
        m = re.search(r"CPU max MHz:\s*([\d.]+)", lscpu)
        if not m:
            try:
                m = re.search(r"cpu MHz\s*:\s*([\d.]+)", open("/proc/cpuinfo").read())
            except OSError:
                m = None
        ghz = round(float(m.group(1)) / 1000, 2) if m else None
    flags = re.search(r"Flags:(.*)", lscpu)
    flags = flags.group(1).split() if flags else []
    per_cycle = 64 if "avx512f" in flags else 32 if "avx2" in flags else 8
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
    return name, ghz, per_cycle, simd


def peak_measured(path):
    """{benchmark: (GFLOP/s, label, lanes)} of hamux_bench's peak/fma_f32* benchmarks (medians):
    "fma_f32" is the widest ISA this CPU runs (what the percentages use), "fma_f32_avx512" and
    "fma_f32_avx2" name theirs. The label says the ISA and vector width that ran."""
    data = json.load(open(path))
    found = {}
    for b in data["benchmarks"]:
        m = re.match(r"peak/(fma_f32\w*)/", b["run_name"])
        if m and "flops" in b and b.get("aggregate_name", "median") == "median" and not b.get("error_occurred"):
            found.setdefault(m.group(1), []).append((b["flops"] / 1e9, b.get("label", ""), int(b.get("lanes", 0))))
    return {k: sorted(v)[len(v) // 2] for k, v in found.items()}


def medians(path):
    """{benchmark name: seconds per step (or per call)}, and the run's context: the median
    aggregate of each benchmark, or the median of its runs where there is none (1 repetition)."""
    data = json.load(open(path))
    med, runs = {}, {}
    for b in data["benchmarks"]:
        name = re.sub(r"/(min_time:[^/]*|real_time)", "", b["run_name"])
        value = b.get("per_step", b["real_time"] / {"ms": 1e3, "us": 1e6, "ns": 1e9}[b["time_unit"]])
        if b.get("aggregate_name") == "median":
            med[name] = value
        elif b.get("run_type", "iteration") == "iteration":
            runs.setdefault(name, []).append(value)
    for name, values in runs.items():
        if name not in med:
            values.sort()
            med[name] = values[len(values) // 2]
    return med, data["context"]


def ms(v):
    return "-" if v is None else f"{v * 1e3:.4g}"


def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def gflops(w, t):
    return None if t is None else FLOPS[w] / t / 1e9


def num(v, fmt="{:.3g}"):
    return "-" if v is None else fmt.format(v)


def versions():
    """The toolchain the benchmark was built with, as far as this machine tells."""
    out = []
    llvm = run(["/usr/lib/llvm-19/bin/llvm-config", "--version"]).strip()
    if llvm:
        out.append(f"LLVM {llvm}")
    cxx = run(["c++", "--version"]).splitlines()
    if cxx:
        out.append(cxx[0])
    try:
        macros = open("/usr/include/eigen3/Eigen/src/Core/util/Macros.h").read()
        v = [re.search(rf"#define EIGEN_{k}_VERSION (\d+)", macros).group(1) for k in ("WORLD", "MAJOR", "MINOR")]
        out.append("Eigen " + ".".join(v))
    except (OSError, AttributeError):
        pass
    gb = run(["dpkg-query", "-W", "-f=${Version}", "libbenchmark-dev"]).strip()
    if gb:
        out.append(f"Google Benchmark {gb}")
    return ", ".join(out)


def machine(ctx, jax_versions, measured):
    name, ghz, per_cycle, simd = cpu()
    lines = [f"- CPU: `{name}`, {ctx.get('num_cpus')} cores as Google Benchmark counts them, {simd}; "
             f"caches (Google Benchmark): " + ", ".join(
                 f"L{c['level']} {c['type'].lower()} {c['size'] // 1024} KiB" for c in ctx.get("caches", [])),
             f"- Date: {ctx.get('date')}; load average at the start of the run: "
             f"{', '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))}"]
    lines.append(f"- Built with: {versions()} (Release, -O3 -march=native)")
    if jax_versions:
        lines.append(f"- JAX: {jax_versions}")
    peak = measured.get("fma_f32") if measured else None
    if peak and peak[2]:
        per_cycle = 2 * 2 * peak[2]   # 2 FMA units x lanes x 2 FLOPs, at the vector width that ran
    nominal = ghz * per_cycle if ghz else None
    if peak:
        others = "; ".join(f"{v[1].split(',')[0]} {v[0]:.0f}" for k, v in sorted(measured.items()) if k != "fma_f32")
        lines.append(f"- Peak of one core, float32, measured (`peak/fma_f32`, {peak[1]}): "
                     f"{peak[0]:.0f} GFLOP/s" + (f" (per ISA: {others} GFLOP/s)" if others else "")
                     + (f"; nominal {ghz} GHz x {per_cycle} FLOP/cycle (2 FMA units x {peak[2]} lanes x 2) = "
                        f"{nominal:.0f} GFLOP/s" if nominal else "") + ". The % of peak below is of the measured one.")
    elif nominal:
        lines.append(f"- Peak of one core, float32: {ghz} GHz x {per_cycle} FLOP/cycle = {nominal:.0f} GFLOP/s")
    return "\n".join(lines), (peak[0] if peak else nominal)


def step_table(med, jax_t, threads, peak_core):
    peak = peak_core * threads if peak_core else None
    out = ["| workload | jit | aot | aot lib | run | eigen | jax | interp | jit/eigen | jax/jit | interp/jit "
           "| aot/jit | aot lib/jit | run/jit | jit GFLOP/s | jit % of peak | jax GFLOP/s |",
           "|" + " --- |" * 17]
    for w in WORKLOADS:
        t = {e: med.get(f"step/{w}/{e}/threads:{threads}") for e in ENGINES}
        jx = jax_t.get(w) if jax_t else None
        itp = med.get(f"step/{w}/interp/threads:1") if threads == 1 else None
        jit = t["jit"]
        pct = None if jit is None or not peak else 100 * gflops(w, jit) / peak
        out.append(f"| {w} | {ms(jit)} | {ms(t['aot'])} | {ms(t['aotlib'])} | {ms(t['run'])} | {ms(t['eigen'])} | "
                   f"{ms(jx)} | {ms(itp)} | {ratio(jit, t['eigen'])} | {ratio(jx, jit)} | {ratio(itp, jit)} | "
                   f"{ratio(t['aot'], jit)} | {ratio(t['aotlib'], jit)} | {ratio(t['run'], jit)} | {num(gflops(w, jit))} | "
                   f"{num(pct, '{:.1f}')} | {num(gflops(w, jx))} |")
    return "\n".join(out)


def compile_table(med):
    out = ["| model | cold | disk hit | memory hit | derive |", "| --- | --- | --- | --- | --- |"]
    for m in sorted({n.split("/")[1] for n in med if n.startswith("compile/")}):
        g = lambda k: f"{med[k] * 1e3:.3g}" if k in med else "-"
        out.append(f"| {m} | {g(f'compile/{m}/cold')} | {g(f'compile/{m}/disk')} | {g(f'compile/{m}/memory')} | "
                   f"{g(f'derive/{m}')} |")
    return "\n".join(out)


def conv_table(med):
    sizes = sorted({n.split("/")[1] for n in med if n.startswith("conv/")},
                   key=lambda s: [int(x) for x in re.findall(r"\d+", s)])
    out = ["| channels in, out | emitted loops | im2col + GEMM | loops / GEMM |", "| --- | --- | --- | --- |"]
    for s in sizes:
        lo, ge = med.get(f"conv/{s}/loops"), med.get(f"conv/{s}/gemm")
        c = re.findall(r"\d+", s)
        out.append(f"| {c[0]}, {c[1]} | {num(lo and lo * 1e3)} | {num(ge and ge * 1e3)} | {ratio(lo, ge)} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench1", required=True)
    ap.add_argument("--jax1")
    ap.add_argument("--bench2")
    ap.add_argument("--jax2")
    a = ap.parse_args()
    med1, ctx = medians(a.bench1)
    jax1 = json.load(open(a.jax1)) if a.jax1 else None
    med2 = medians(a.bench2)[0] if a.bench2 else None
    jax2 = json.load(open(a.jax2)) if a.jax2 else None
    versions = jax1.get("versions") or jax1.get("jax_version") if jax1 else None
    text, peak_core = machine(ctx, versions, peak_measured(a.bench1))
    print("### Machine\n")
    print(text)
    print("\n### Step time, 1 thread (ms per step of the whole batch, medians)\n")
    print(step_table(med1, jax1, 1, peak_core))
    if med2:
        print("\n### Step time, 2 threads (ms per step of the whole batch, medians)\n")
        print(step_table(med2, jax2, 2, peak_core))
    print("\n### Compile latency (ms, medians)\n")
    print(compile_table(med1))
    if any(n.startswith("conv/") for n in med1):
        print("\n### Convolutions: emitted loops vs im2col + GEMM (ms per call, batch 32)\n")
        print(conv_table(med1))


if __name__ == "__main__":
    main()
