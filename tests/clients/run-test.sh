#!/usr/bin/env bash
# Runs client test files under node's test runner with the Node.js that package.json pins:
# matrix-js-sdk needs Node 22 or newer, which the machine's own Node may not be. ctest calls
# this with HAVEN_BIN set; by hand: HAVEN_BIN=build/debug/homeserver/haven
# tests/clients/run-test.sh tests/clients/basic_messaging.test.mjs
# Exits non-zero (a failed test, never a skipped one) when `npm ci` has not been run here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
node="$here/node_modules/.bin/node"
if [[ ! -x "$node" || ! -f "$here/node_modules/matrix-js-sdk/package.json" ]]; then
  echo "FAIL: tests/clients/node_modules is missing or incomplete, so the client tests cannot" \
    "run. Install it with: (cd tests/clients && npm ci)   (scripts/test.sh does this)" >&2
  exit 1
fi
cd "$here"
# --test-force-exit: the SDK can re-arm a polling timer after stopClient() (a poll still in
# flight when it stops), which would otherwise keep the process alive after the last test.
exec "$node" --test --test-force-exit --test-reporter=spec --test-concurrency=1 "$@"
