#!/usr/bin/env bash
# scripts/python_test.sh - build and install the Python package hamuxc into a virtual
# environment (build/pyvenv, from PyPI) and run its pytest suite (python/tests).
# Run by scripts/test.sh after the C++ tests (it needs build/hamux for the CLI comparisons).
# The exit status is pytest's; "no test ran" (pytest's 5) counts as a failure.
# Incremental: the venv is kept, requirements are installed again only when
# python/requirements-test.txt changes, and scikit-build-core reuses build/python.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/packages.sh
ensure_packages python3-venv python3-dev

venv=build/pyvenv
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv "$venv"
fi
stamp="$venv/.requirements-test.sha256"
want="$(sha256sum python/requirements-test.txt | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r python/requirements-test.txt
  echo "$want" > "$stamp"
fi
# --no-build-isolation: the build tools of the venv, so that build/python stays valid between runs.
CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$venv/bin/pip" install -q --no-build-isolation --no-deps .

status=0
"$venv/bin/python" -m pytest -q python/tests "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
fi
exit "$status"
