#!/usr/bin/env bash
# Installs what is missing, builds the release server, writes ./homeserver.yaml (server name
# localhost, data in ./data) when there is none yet, and runs the homeserver in the
# foreground on 127.0.0.1:8008. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh release

haven=build/release/homeserver/haven
if [[ ! -f homeserver.yaml ]]; then
  "$haven" generate-config --server-name localhost --data-dir ./data > homeserver.yaml.tmp
  mv homeserver.yaml.tmp homeserver.yaml
  echo "run: wrote homeserver.yaml (edit it to change the server name, ports, registration)"
fi

# --- care appservice (haven-care) -----------------------------------------------------------
# Placeholder: the bundled care appservice will be started here (in the background, with its
# registration file referenced from homeserver.yaml) once appservices/care exists.
# ----------------------------------------------------------------------------------------------

exec "$haven" serve -c homeserver.yaml
