#!/usr/bin/env python3
"""Tables for docs/performance.md from a hamux_bench JSON file (medians of the repetitions).

    build/bench/hamux_bench --benchmark_repetitions=3 --benchmark_out=bench.json \
        --benchmark_out_format=json
    python3 bench/summarize.py bench.json
"""
import json
import re
import sys


def main(path):
    data = json.load(open(path))
    med = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            name = re.sub(r"/(min_time:[^/]*|real_time)", "", b["run_name"])
            med[name] = b.get("per_step", b["real_time"] / {"ms": 1e3, "us": 1e6, "ns": 1e9}[b["time_unit"]])
    print("context:", json.dumps({k: data["context"].get(k) for k in ("date", "host_name", "num_cpus", "mhz_per_cpu", "load_avg")}))
    print()
    print("| workload | threads | jit ms/step | eigen ms/step | interp ms/step | jit/eigen | interp/jit | jit scalar math ms/step |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for w in ("W1", "W2", "W3", "W4", "W5"):
        for t in (1, 2):
            jit = med.get(f"step/{w}/jit/threads:{t}")
            eig = med.get(f"step/{w}/eigen/threads:{t}")
            itp = med.get(f"step/{w}/interp/threads:1")
            sca = med.get(f"step/{w}/jit_scalar_math/threads:1") if t == 1 else None
            if jit is None:
                continue
            f = lambda v: "-" if v is None else f"{v * 1e3:.4g}"
            r = lambda a, b: "-" if a is None or b is None else f"{a / b:.2f}"
            print(f"| {w} | {t} | {f(jit)} | {f(eig)} | {f(itp) if t == 1 else '-'} | {r(jit, eig)} | "
                  f"{r(itp, jit) if t == 1 else '-'} | {f(sca)} |")
    print()
    print("| model | cold ms | disk hit ms | memory hit ms | derive ms |")
    print("| --- | --- | --- | --- | --- |")
    models = sorted({n.split("/")[1] for n in med if n.startswith("compile/")})
    for m in models:
        g = lambda k: f"{med[k] * 1e3:.3g}" if k in med else "-"
        print(f"| {m} | {g(f'compile/{m}/cold')} | {g(f'compile/{m}/disk')} | {g(f'compile/{m}/memory')} | "
              f"{g(f'derive/{m}')} |")


if __name__ == "__main__":
    main(sys.argv[1])
