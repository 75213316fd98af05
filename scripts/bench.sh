#!/usr/bin/env bash
# One command for the benchmark of issue 8 (not part of the tests):
#   builds bench/ (hamux_bench), creates a Python virtual environment from PyPI (hamux, jax,
#   numpy), runs W1-W5 for the hamux JIT and the hand-written Eigen step (Google Benchmark) and
#   W1-W5 for the JAX hamux library (whole loop under jax.jit + lax.fori_loop, float32), on 1
#   thread and then on 2 (when the machine has 2 cores), and prints a table of ratios and
#   GFLOP/s for each thread count, all from this run.
#
#   scripts/bench.sh                 # build dir: build/ (or $BUILD_DIR), venv: $BUILD_DIR/venv
#   HAMUX_VENV=DIR scripts/bench.sh  # use (or create) the virtual environment in DIR
#   REPS=5 scripts/bench.sh          # repetitions (default 3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
venv="${HAMUX_VENV:-$build/venv}"
reps="${REPS:-3}"
out="$build/bench-results"
mkdir -p "$out"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > "$out/cmake.log"
cmake --build "$build" --target hamux_bench -j"${JOBS:-2}" > "$out/build.log"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
"$venv/bin/pip" install --quiet "hamux==0.2.2" jax numpy fastcore equinox

# 1 thread: pin every timed process to one core. XLA's CPU runtime starts its own worker
# threads whatever XLA_FLAGS say (measured: 2x faster on 2 cores than pinned), so flags alone
# do not give 1 thread. 2 threads: the processes get cores 0 and 1, hamux_bench runs its
# threads:2 benchmarks (the batch split over a team of 2) and XLA its default thread pool.
pin1=() pin2=()
if command -v taskset > /dev/null; then
  pin1=(taskset -c 0)
  if [ "$(nproc)" -ge 2 ]; then pin2=(taskset -c 0,1); fi
else
  echo "bench.sh: no taskset, JAX may use more threads than asked" >&2
fi

${pin1[@]+"${pin1[@]}"} "$build/bench/hamux_bench" --benchmark_filter='^step/W[1-5]/(jit|eigen)/threads:1(/|$)' \
  --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/hamux_bench.json" --benchmark_out_format=json > "$out/hamux_bench.txt"
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false" \
  ${pin1[@]+"${pin1[@]}"} "$venv/bin/python" "$root/tools/golden/bench_jax.py" --models "$root/examples/models" \
  --reps "$reps" | grep -v '^Post init$' > "$out/jax.json"
"$venv/bin/python" "$root/bench/summarize.py" "$out/hamux_bench.json" --jax "$out/jax.json" \
  | tee "$out/table.md"

if [ "$(nproc)" -ge 2 ]; then
  ${pin2[@]+"${pin2[@]}"} "$build/bench/hamux_bench" --benchmark_filter='^step/W[1-5]/(jit|eigen)/threads:2(/|$)' \
    --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_out="$out/hamux_bench2.json" --benchmark_out_format=json > "$out/hamux_bench2.txt"
  ${pin2[@]+"${pin2[@]}"} "$venv/bin/python" "$root/tools/golden/bench_jax.py" --models "$root/examples/models" \
    --reps "$reps" | grep -v '^Post init$' > "$out/jax2.json"
  echo
  "$venv/bin/python" "$root/bench/summarize.py" "$out/hamux_bench2.json" --jax "$out/jax2.json" --threads 2 \
    | tee -a "$out/table.md"
fi
