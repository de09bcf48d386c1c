#!/usr/bin/env bash
# Installs what is missing, builds the release server, writes ./homeserver.yaml (server name
# localhost, data in ./data) when there is none yet, and runs the homeserver in the
# foreground on 127.0.0.1:8008, with haven-care (guest links) in the background on
# 127.0.0.1:8090. Stop both with Ctrl-C.
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
# haven-care (guest links) runs beside haven on 127.0.0.1:8090 with its own care.yaml and data
# in ./data-care. On the first run its registration file is written and listed in
# homeserver.yaml under app_service_config_files (only when that key is still empty).
care=build/release/appservices/care/haven-care
if [[ ! -f care.yaml ]]; then
  "$care" generate-config --server-name localhost --data-dir ./data-care \
    --homeserver-url http://127.0.0.1:8008 --port 8090 \
    --registration care-registration.yaml > care.yaml.tmp
  mv care.yaml.tmp care.yaml
  if grep -q '^app_service_config_files: \[\]' homeserver.yaml; then
    sed -i 's|^app_service_config_files: \[\]|app_service_config_files: [care-registration.yaml]|' \
      homeserver.yaml
  fi
  echo "run: wrote care.yaml and care-registration.yaml (haven-care, the guest links service)"
fi
"$care" serve -c care.yaml &
care_pid=$!
trap 'kill "$care_pid" 2>/dev/null || true' EXIT
# ----------------------------------------------------------------------------------------------

"$haven" serve -c homeserver.yaml
