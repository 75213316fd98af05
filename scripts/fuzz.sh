#!/usr/bin/env bash
# scripts/fuzz.sh [TARGET] [SECONDS] [extra libFuzzer flags...] - fuzz one of hamux's parsers.
#
# TARGET is one of (default frontend):
#   frontend  the model loader (tests/fuzz/frontend_fuzz.cpp), seeds tests/fuzz/corpus/
#   npy       the .npy parser (npy_fuzz.cpp), seeds tests/fuzz/corpus_npy/
#   npz       the .npz/zip reader and inflate (npz_fuzz.cpp), seeds tests/fuzz/corpus_npz/
# (`scripts/fuzz.sh 600` still fuzzes the frontend for 600 seconds.)
# Builds the target with clang-19, libFuzzer, ASan and UBSan into build-fuzz/, then runs it
# for SECONDS (default 600) on one worker with the target's dictionary. New interesting
# inputs go to build-fuzz/corpus-TARGET/; a crash is written to build-fuzz/crash-* and
# makes this script fail.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/packages.sh

target=frontend
case "${1:-}" in
  frontend|npy|npz) target="$1"; shift ;;
esac
seconds="${1:-600}"
shift || true
case "$target" in
  frontend) seeds=tests/fuzz/corpus; dict=tests/fuzz/model.dict; max_len=4096 ;;
  npy) seeds=tests/fuzz/corpus_npy; dict=tests/fuzz/npy.dict; max_len=4096 ;;
  npz) seeds=tests/fuzz/corpus_npz; dict=tests/fuzz/npz.dict; max_len=8192 ;;
esac

ensure_packages clang-19 libclang-rt-19-dev llvm-19-dev libeigen3-dev nlohmann-json3-dev \
  zlib1g-dev cmake ninja-build

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHAMUX_FUZZ=ON -DHAMUX_TESTS=OFF -DHAMUX_BENCH=OFF
fi
cmake --build build-fuzz --target "${target}_fuzz" -j"${HAMUX_JOBS:-$(nproc)}"

corpus="build-fuzz/corpus-$target"
[ "$target" = frontend ] && [ -d build-fuzz/corpus ] && [ ! -d "$corpus" ] && mv build-fuzz/corpus "$corpus"
mkdir -p "$corpus"
# ASan/UBSan: report and stop on the first problem, with a symbolised stack.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec "build-fuzz/${target}_fuzz" "$corpus" "$seeds" \
  -max_total_time="$seconds" -max_len="$max_len" -dict="$dict" -rss_limit_mb=2048 \
  -artifact_prefix=build-fuzz/ -print_final_stats=1 "$@"
