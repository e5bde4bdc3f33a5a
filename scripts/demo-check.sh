#!/usr/bin/env bash
# CI check of the README's first command: clones this repository into a
# temporary directory, runs scripts/demo.sh there (nothing else prepared),
# waits for GET /healthz to answer 200 and stops the server.
#
#   scripts/demo-check.sh
#
# To keep CI short it builds the debug profile (BUURTPEIL_DEMO_PROFILE=dev)
# into this checkout's target/ (CARGO_TARGET_DIR), which the test run has
# filled already: only buurtpeil itself is compiled again. The clone has the
# committed files only. BUURTPEIL_DEMO_CHECK_TIMEOUT (seconds, default 600)
# bounds the build and the demo's start together.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
die() { printf 'scripts/demo-check.sh: %s\n' "$*" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/buurtpeil-demo.XXXXXX")
SERVER=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then
        kill -TERM -- "-$SERVER" 2>/dev/null || kill -TERM "$SERVER" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.2; done
        kill -KILL -- "-$SERVER" 2>/dev/null || kill -KILL "$SERVER" 2>/dev/null || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${BUURTPEIL_DEMO_CHECK_PORT:-18080}
while port_in_use "$PORT"; do PORT=$((PORT + 1)); done

# The status code of GET /healthz, or nothing.
healthz() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$PORT"
        printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
        head -n 1 <&3 | awk '{print $2}'
    ) 2>/dev/null || true
}

printf '\n==> Cloning %s into %s\n' "$ROOT" "$TMP/clone"
git clone --quiet --no-hardlinks "$ROOT" "$TMP/clone"

printf '\n==> scripts/demo.sh --bind 127.0.0.1:%s (debug build, log in %s)\n' "$PORT" "$TMP/demo.log"
# In a session of its own, so that stopping it stops the build too.
(
    cd "$TMP/clone"
    export BUURTPEIL_DEMO_PROFILE=dev CARGO_TARGET_DIR="$ROOT/target"
    exec setsid scripts/demo.sh --bind "127.0.0.1:$PORT"
) >"$TMP/demo.log" 2>&1 &
SERVER=$!

deadline=$((SECONDS + ${BUURTPEIL_DEMO_CHECK_TIMEOUT:-600}))
status=
while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$SERVER" 2>/dev/null || { tail -n 40 "$TMP/demo.log" >&2; die "scripts/demo.sh stopped before /healthz answered"; }
    status=$(healthz)
    [ "$status" = 200 ] && break
    sleep 1
done
[ "$status" = 200 ] || { tail -n 40 "$TMP/demo.log" >&2; die "no 200 from /healthz within the time (last: ${status:-none})"; }
grep -q 'demo login:' "$TMP/demo.log" || { cat "$TMP/demo.log" >&2; die "the demo did not print its login"; }
printf '==> /healthz answered 200 after %s s; stopping the demo\n' "$SECONDS"
