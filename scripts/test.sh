#!/usr/bin/env bash
# scripts/test.sh - set up and build (scripts/setup.sh), then run the whole test suite.
# The exit status is the test result (failed if either the C++ or the Python tests fail).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
status=0
ctest --test-dir build --output-on-failure -j2 || status=$?
# The Python package (python/, docs/python.md): venv, pip install, pytest.
bash scripts/python_test.sh || status=$?
exit "$status"
