#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...] - fuzz the model frontend.
#
# Builds tests/fuzz/frontend_fuzz.cpp with clang-19, libFuzzer, ASan and UBSan into
# build-fuzz/, then runs it for SECONDS (default 600) on one worker, starting from the
# seed corpus tests/fuzz/corpus/ (the contract models) with the format's keywords as a
# dictionary. New interesting inputs go to build-fuzz/corpus/; a crash is written to
# build-fuzz/crash-* and makes this script fail.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/packages.sh

seconds="${1:-600}"
shift || true

ensure_packages clang-19 libclang-rt-19-dev llvm-19-dev libeigen3-dev nlohmann-json3-dev \
  cmake ninja-build

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHAMUX_FUZZ=ON -DHAMUX_TESTS=OFF
fi
cmake --build build-fuzz --target frontend_fuzz -j"${HAMUX_JOBS:-$(nproc)}"

mkdir -p build-fuzz/corpus
# ASan/UBSan: report and stop on the first problem, with a symbolised stack.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec build-fuzz/frontend_fuzz build-fuzz/corpus tests/fuzz/corpus \
  -max_total_time="$seconds" -max_len=4096 -dict=tests/fuzz/model.dict \
  -artifact_prefix=build-fuzz/ -print_final_stats=1 "$@"
