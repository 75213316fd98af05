"""Per-call overhead of Model.run from Python against hamux::run from C++ (a benchmark, not a test).

W3 (examples/models/readme.json, batch 1): one run call of 1 step and of 1000 steps, timed
from Python (Model.run) and from C++ (the same hamux::run calls in a C++ loop inside the
extension, Model._time_cpp_runs), interleaved in rounds so that both see the same machine
load. The overhead is the difference of the medians (and of the fastest rounds), in
microseconds.

    build/pyvenv/bin/python python/bench/overhead.py [--rounds 15] [--reps 2000]
"""
import argparse
import pathlib
import statistics
import time

import hamuxc

REPO = pathlib.Path(__file__).resolve().parents[2]


def time_python(model, states, steps, reps):
    run = model.run
    t0 = time.perf_counter()
    for _ in range(reps):
        run(states, steps=steps)
    return (time.perf_counter() - t0) / reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=31)
    ap.add_argument("--reps", type=int, default=2000, help="calls per round for 1 step (1000 steps: reps / 100)")
    args = ap.parse_args()
    model = hamuxc.load(REPO / "examples" / "models" / "readme.json")
    states = model.normal(1, 1)
    print(f"W3 (readme.json), batch 1; {args.rounds} interleaved rounds; median per call")
    for steps, reps in [(1, args.reps), (1000, max(args.reps // 100, 5))]:
        py, cpp = [], []
        time_python(model, states, steps, reps // 10)  # warm up
        for _ in range(args.rounds):
            cpp.append(model._time_cpp_runs(states, steps, reps))
            py.append(time_python(model, states, steps, reps))
        p, c = statistics.median(py) * 1e6, statistics.median(cpp) * 1e6
        pm, cm = min(py) * 1e6, min(cpp) * 1e6
        print(f"  {steps:5d} steps: median Python {p:9.2f} us, C++ {c:9.2f} us, overhead {p - c:6.2f} us;"
              f"  fastest round Python {pm:9.2f} us, C++ {cm:9.2f} us, overhead {pm - cm:6.2f} us")

if __name__ == "__main__":
    main()
