#!/usr/bin/env bash
# scripts/demo.sh - set up and build (scripts/setup.sh), then run the main job: store
# Fashion-MNIST images in a dense associative memory, corrupt them, and retrieve them by
# running the compiled dynamics (examples/retrieval; falls back to synthetic patterns).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
echo "\$ build/examples/retrieval/hamux_retrieval --out build/retrieval-out"
build/examples/retrieval/hamux_retrieval --out build/retrieval-out
