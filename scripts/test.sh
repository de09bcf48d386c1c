#!/usr/bin/env bash
# Runs the whole test suite the way CI does: installs what is missing, builds with
# AddressSanitizer and UndefinedBehaviorSanitizer (build/debug), installs the client-test
# npm packages when tests/clients has a package.json, and runs every test through ctest.
# The exit code is ctest's. Extra arguments are passed to ctest (e.g. -R integration).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh debug

if [[ -f tests/clients/package.json ]]; then
  (cd tests/clients && npm ci --no-audit --no-fund)
fi

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1
status=0
ctest --test-dir build/debug --output-on-failure -j2 "$@" || status=$?
exit "$status"
