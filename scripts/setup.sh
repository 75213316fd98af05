#!/usr/bin/env bash
# scripts/setup.sh - make a fresh Debian 12 machine build hamux: install the packages it
# needs (only those missing), configure with Ninja in Release mode into build/, build.
# Idempotent: a second run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/packages.sh

ensure_packages dataset-fashion-mnist llvm-19-dev libeigen3-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev \
  cmake ninja-build g++ python3-jsonschema

# Configuring an existing build tree is quick and keeps it Ninja + Release whatever it was.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
