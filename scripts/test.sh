#!/usr/bin/env bash
# scripts/test.sh - set up and build (scripts/setup.sh), then run the whole test suite.
# The exit status is the test result.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j2
