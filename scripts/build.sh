#!/usr/bin/env bash
# Builds Haven with CMake and Ninja.
#   scripts/build.sh [release]  -> build/release (Release): the server you run
#   scripts/build.sh debug      -> build/debug (Debug, AddressSanitizer + UBSan): for the tests
# Extra arguments after the build type are passed to `cmake --build` (e.g. --target haven).
set -euo pipefail
cd "$(dirname "$0")/.."

kind="${1:-release}"
shift || true
case "$kind" in
  release) dir=build/release; cmake_args=(-DCMAKE_BUILD_TYPE=Release) ;;
  debug) dir=build/debug; cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DHAVEN_SANITIZE=ON) ;;
  *)
    echo "usage: $0 [release|debug] [cmake --build arguments...]" >&2
    exit 2
    ;;
esac

cmake -S . -B "$dir" -G Ninja "${cmake_args[@]}"
cmake --build "$dir" -j"$(nproc)" "$@"
