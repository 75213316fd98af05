#!/usr/bin/env bash
# tools/golden/train_jax.sh - `hamux train` against the hamux JAX library 0.2 (issue 16; not a test).
#
# Trains examples/training/fashion_compare.train.json (the Fashion-MNIST classifier on the first
# 6000 training images, file order, Adam with a constant lr, batch 100, T = 6, dt = 0.5) with
# hamux and with tools/golden/train_jax.py from the same initial params, and prints:
#   1. the check: loss and gradient norm of the first batch at the initial params, both sides;
#   2. seconds per epoch (median of epoch 2 and later), pinned to core 0 (1 thread) and to
#      cores 0,1 (2 threads), both sides (epoch 1 includes the compilation of the kernels);
#   3. the test accuracy (10,000 images) after the run, both sides.
# Results: build/fashion-compare/ (log.csv of hamux, jax-*.json). Docs: docs/performance.md,
# "Training against the JAX library".
#
#   bash tools/golden/train_jax.sh               # build dir: build/ (or $BUILD_DIR)
#   EPOCHS=5 bash tools/golden/train_jax.sh      # epochs per run (default 3)
#   HAMUX_VENV=DIR bash tools/golden/train_jax.sh  # virtual environment (default build/venv-train)
#   FORCE=1 ...                                   # time even while another `hamux train` runs
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${BUILD_DIR:-$root/build}"
venv="${HAMUX_VENV:-$build/venv-train}"
out="$build/fashion-compare"
file="$root/examples/training/fashion_compare.train.json"
epochs="${EPOCHS:-3}"
hamux="$build/hamux"
mkdir -p "$out"
[ -x "$hamux" ] || { echo "train_jax.sh: no $hamux; build the target hamux first" >&2; exit 1; }

# The environment of scripts/bench.sh and tools/golden/make_golden.sh, plus optax.
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
# hamux 0.2.2 imports fastcore and equinox; name them so that an older pin cannot drop them.
"$venv/bin/pip" install --quiet "hamux==0.2.2" jax numpy fastcore equinox optax
py=("$venv/bin/python" "$root/tools/golden/train_jax.py")

# The data (build/fashion6000.npz, fashion_test.npz, fashion_first100.npz; the training file
# names them relative to itself) and the initial params, written by hamux.
"${py[@]}" data --out "$build" > /dev/null
"$hamux" train "$file" --epochs 0 --out "$out/init" --quiet > /dev/null
init="$out/init/params.npz"

# 1. The check: the same file with only the first batch as its train data.
"$venv/bin/python" - "$file" "$build/fashion_first100.npz" "$out" <<'EOF'
import json, os, sys
file, first, out = sys.argv[1:]
t = json.load(open(file))
t["model"] = os.path.join(os.path.dirname(file), t["model"])
t["data"] = {"train": {"images": first, "labels": first}}
t["epochs"], t["out"] = 1, os.path.join(out, "first-batch")
json.dump(t, open(os.path.join(out, "first_batch.train.json"), "w"), indent=1)
EOF
"$hamux" train "$out/first_batch.train.json" --init-params "$init" --quiet > /dev/null
h_check="$(awk -F, 'NR == 2 {print "loss " $2 " grad_norm " $7}' "$out/first-batch/log.csv")"
j_check="$("${py[@]}" loss "$out/first_batch.train.json" --params "$init")"
echo "first batch at the initial params: hamux $h_check; JAX $j_check"
"$venv/bin/python" - "$h_check" "$j_check" <<'EOF'
import sys
h, j = ([float(v) for v in s.split()[1::2]] for s in sys.argv[1:])
rel = max(abs(a - b) / abs(b) for a, b in zip(h, j))
print(f"  largest relative difference {rel:.2g}")
sys.exit(0 if rel <= 1e-5 else "train_jax.sh: hamux and JAX differ by more than 1e-5 on the first batch")
EOF

# 2 and 3. Timed runs, nothing else training on the machine: checked before every run (ours
# are not running then), and the load average printed at the start and the end.
quiet_machine() {
  if [ "${FORCE:-0}" = 0 ] && pgrep -f "hamux train" > /dev/null; then
    echo "train_jax.sh: another 'hamux train' is running (pgrep -af 'hamux train'); timings would be worthless" >&2
    exit 1
  fi
}
quiet_machine
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(grep -o -w -E 'avx2|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "start: $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$root" rev-parse --short HEAD)"
for threads in 1 2; do
  if [ "$threads" = 1 ]; then
    pin=(taskset -c 0)
    xla="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
  else
    [ "$(nproc)" -ge 2 ] || break
    pin=(taskset -c 0,1)
    xla=""
  fi
  rm -rf "$out/hamux-t$threads"
  quiet_machine
  "${pin[@]}" "$hamux" train "$file" --init-params "$init" --epochs "$epochs" --threads "$threads" \
    --out "$out/hamux-t$threads" --quiet > "$out/hamux-t$threads.txt"
  XLA_FLAGS="$xla" "${pin[@]}" "${py[@]}" train "$file" --params "$init" --epochs "$epochs" \
    --json "$out/jax-t$threads.json" > "$out/jax-t$threads.txt"
  quiet_machine
  "$venv/bin/python" - "$threads" "$out/hamux-t$threads/log.csv" "$out/hamux-t$threads.txt" "$out/jax-t$threads.json" <<'EOF'
import csv, json, re, statistics, sys
threads, log, text, jfile = sys.argv[1:]
h = list(csv.DictReader(open(log)))
j = json.load(open(jfile))
h_acc = float(re.search(r"accuracy ([0-9.]+)%", open(text).read().split("test:")[1]).group(1))
h_s = statistics.median(float(r["seconds"]) for r in h[1:] or h)  # as JAX: from epoch 2
j_s = statistics.median(e["seconds"] for e in j["epochs"][1:] or j["epochs"])
print(f"{threads} thread(s): s/epoch hamux {h_s:.3f}, JAX {j_s:.3f} (epoch 1 with compile {j['epochs'][0]['seconds']:.3f}); "
      f"hamux/JAX time {h_s / j_s:.2f}")
print(f"  train loss per epoch: hamux {' '.join('%.6g' % float(r['train_loss']) for r in h)}; "
      f"JAX {' '.join('%.6g' % e['train_loss'] for e in j['epochs'])}")
print(f"  test accuracy after {len(h)} epochs: hamux {h_acc:.2f}%, JAX {100 * j['test_accuracy']:.2f}% ({j['versions']})")
EOF
done
echo "end: $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
