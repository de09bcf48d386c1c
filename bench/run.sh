#!/usr/bin/env bash
# Builds Haven (Release) and haven_bench, starts a fresh `haven` on a free loopback port with
# a temporary data directory (registration on, rate limits off, rooms unencrypted by default),
# runs every benchmark against it and prints one Markdown table on stdout (progress on stderr).
# Extra arguments go to haven_bench, e.g. bench/run.sh --sync-rooms 10 --sync-events 100 for
# a quick look. BENCH_SKIP_BUILD=1 uses the binaries already in build/release; HAVEN_BIN and
# HAVEN_BENCH_BIN name other binaries (and skip the build).
# HAVEN_KEEP_TMP=1 keeps the server's data directory and log. The federation rows come from
# bench/federation_bench.py (two servers of its own; BENCH_SKIP_FEDERATION=1 skips them,
# BENCH_FEDERATION_ARGS passes it sizes). See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build/release
if [[ -z "${BENCH_SKIP_BUILD:-}" && -z "${HAVEN_BIN:-}${HAVEN_BENCH_BIN:-}" ]]; then
  scripts/build.sh release --target haven haven_bench >&2
fi
haven="${HAVEN_BIN:-$build_dir/homeserver/haven}"
bench="${HAVEN_BENCH_BIN:-$build_dir/bench/haven_bench}"
for bin in "$haven" "$bench"; do
  [[ -x "$bin" ]] || { echo "run.sh: $bin is missing (build failed?)" >&2; exit 1; }
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/haven-bench-XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "${HAVEN_KEEP_TMP:-}" ]]; then
    echo "run.sh: server files kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT

# A free TCP port on 127.0.0.1 (the kernel picks it; nothing listens on it afterwards).
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# Sets a dotted key (rate_limits.rc_message.per_second) in YAML laid out the way
# `haven generate-config` writes it: two spaces per level, one key per line. Fails when the
# key is missing, so a renamed option stops the run instead of being ignored.
set_option() {
  local file="$1" key="$2" value="$3"
  awk -v want="$key" -v value="$value" '
    BEGIN { found = 0 }
    {
      if (match($0, /^ *[A-Za-z0-9_]+:/)) {
        indent = match($0, /[^ ]/) - 1
        name = substr($0, indent + 1)
        sub(/:.*/, "", name)
        depth = indent / 2
        path[depth] = name
        full = path[0]
        for (i = 1; i <= depth; i++) full = full "." path[i]
        if (full == want && !found) {
          printf "%s%s: %s\n", substr($0, 1, indent), name, value
          found = 1
          next
        }
      }
      print
    }
    END { if (!found) exit 3 }' "$file" > "$file.new" || {
      echo "run.sh: the generated config has no option $key" >&2
      exit 1
    }
  mv "$file.new" "$file"
}

config="$tmp/homeserver.yaml"
data_dir="$tmp/data"
"$haven" generate-config --server-name "localhost:$port" --data-dir "$data_dir" \
  --client-port "$port" --federation-port 0 > "$config"
set_option "$config" registration.enable_registration true
set_option "$config" rooms.encryption_enabled_by_default false
for limit in rc_login rc_registration rc_message; do
  set_option "$config" "rate_limits.$limit.per_second" 0  # 0 = unlimited
done

"$haven" serve -c "$config" > "$tmp/haven.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 200); do  # 20 s
  if curl -fsS --noproxy '*' -o /dev/null "http://127.0.0.1:$port/_matrix/client/versions" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: haven exited during start-up:" >&2
    tail -n 40 "$tmp/haven.log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! curl -fsS --noproxy '*' -o /dev/null "http://127.0.0.1:$port/_matrix/client/versions"; then
  echo "run.sh: haven did not answer within 20 s:" >&2
  tail -n 40 "$tmp/haven.log" >&2
  exit 1
fi

bench_status=0
"$bench" --url "http://127.0.0.1:$port" --pid "$server_pid" --data-dir "$data_dir" "$@" || bench_status=$?

# The federation rows: two more servers of their own (bench/federation_bench.py), appended to
# the table above. BENCH_SKIP_FEDERATION=1 leaves them out.
federation_status=0
if [[ -z "${BENCH_SKIP_FEDERATION:-}" ]]; then
  HAVEN_BIN="$haven" python3 bench/federation_bench.py ${BENCH_FEDERATION_ARGS:-} \
    || federation_status=$?
fi

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo
echo "_Haven $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo '+changes'),"\
  "Release build; ${cpu:-unknown CPU}, $(nproc) cores shared by server and load generator;"\
  "$(date -u +%Y-%m-%d)._"

kill -TERM "$server_pid"
for _ in $(seq 1 200); do  # 20 s to exit
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
  echo "run.sh: haven did not exit within 20 s of SIGTERM; killing it" >&2
  kill -KILL "$server_pid" 2>/dev/null || true
fi
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
if ((server_status != 0)); then
  echo "run.sh: haven exited with $server_status after SIGTERM; log tail:" >&2
  tail -n 40 "$tmp/haven.log" >&2
fi
if ((bench_status != 0)); then
  echo "run.sh: haven_bench stopped early (status $bench_status); server log tail:" >&2
  tail -n 40 "$tmp/haven.log" >&2
fi
if ((bench_status == 0 && federation_status != 0)); then
  bench_status=$federation_status
fi
exit $((bench_status != 0 ? bench_status : server_status))
