#!/usr/bin/env bash
# Regenerates the JAX golden fixtures in tests/golden/data/ (see make_golden.py).
# Creates a virtual environment from PyPI (hamux, jax, numpy) under build/venv, or $HAMUX_VENV.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${HAMUX_VENV:-$root/build/venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
# hamux 0.2.2 imports fastcore and equinox; name them so that an older pin cannot drop them.
"$venv/bin/pip" install --quiet "hamux==0.2.2" jax numpy fastcore equinox
# hamux 0.2.2 prints "Post init" for every NeuronLayer; keep the output readable.
"$venv/bin/python" "$root/tools/golden/make_golden.py" "$@" | grep -v '^Post init$'
