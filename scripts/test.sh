#!/usr/bin/env bash
# The one test command of buurtpeil: lint, then every test target against a
# throw-away PostgreSQL cluster and a headless Chromium.
#
#   scripts/test.sh [extra args for cargo test]
#   BUURTPEIL_SKIP_LINT=1 scripts/test.sh      # skip cargo fmt / clippy
#   BUURTPEIL_SKIP_DENY=1 scripts/test.sh      # skip cargo deny (deny.toml)
#   scripts/test.sh -- --nocapture              # args go to `cargo test --all-targets`
#
# Works on a fresh Debian 12 machine as root (or as a user with sudo): missing
# system packages (what the build needs: build-essential, libpq-dev, and cmake
# + libclang-dev for the HiGHS solver, checked by scripts/lib/prereqs.sh, which
# scripts/demo.sh shares; and for the tests postgresql, chromium,
# chromium-driver, npm, poppler-utils, zbar-tools, python3-venv) are
# installed with apt-get. axe-core (the accessibility checker of the browser
# tests) comes from the npm registry at a pinned version, cached in target/axe/
# and passed to the tests as BUURTPEIL_AXE; aiosmtpd (the e-mail tests' SMTP
# server) is installed into target/smtp-venv and passed as BUURTPEIL_SMTP_PYTHON.
# The cluster lives in a temporary
# directory, listens on 127.0.0.1 only (port BUURTPEIL_TEST_PG_PORT, default
# 54329, or the next free one), trusts every local login, and is stopped and
# deleted on exit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

banner() { printf '\n==> %s\n' "$*"; }
die() { printf 'scripts/test.sh: %s\n' "$*" >&2; exit 1; }

# --- system packages, installed only when missing -----------------------------
# shellcheck source=scripts/lib/prereqs.sh
. scripts/lib/prereqs.sh

newest_pg_bin >/dev/null || missing+=(postgresql)
need_build_packages
need_package chromium chromium
need_package chromedriver chromium-driver
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Invitations: letters are read back with pdftotext/pdftoppm and zbarimg;
# e-mails go to a test SMTP server (aiosmtpd in a venv).
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
install_missing
need_cargo

PG_BIN=$(newest_pg_bin) || die "no PostgreSQL server found under /usr/lib/postgresql"

# --- axe-core from npm, once --------------------------------------------------
AXE_VERSION=4.10.3
AXE_DIR=target/axe
AXE_JS="$PWD/$AXE_DIR/node_modules/axe-core/axe.min.js"
if [ "$(cat "$AXE_DIR/version" 2>/dev/null)" != "$AXE_VERSION" ] || [ ! -s "$AXE_JS" ]; then
    banner "Fetching axe-core $AXE_VERSION from npm into $AXE_DIR"
    rm -rf "$AXE_DIR"
    mkdir -p "$AXE_DIR"
    npm install --prefix "$AXE_DIR" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
        "axe-core@$AXE_VERSION" || die "could not fetch axe-core $AXE_VERSION from npm"
    [ -s "$AXE_JS" ] || die "axe-core was installed, but $AXE_JS is missing"
    echo "$AXE_VERSION" >"$AXE_DIR/version"
fi
export BUURTPEIL_AXE="$AXE_JS"

# --- aiosmtpd for the e-mail tests, once ----------------------------------------
SMTP_VENV=target/smtp-venv
if ! "$SMTP_VENV/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
    banner "Creating $SMTP_VENV with aiosmtpd from PyPI"
    rm -rf "$SMTP_VENV"
    python3 -m venv "$SMTP_VENV" || die "could not create a Python venv in $SMTP_VENV"
    "$SMTP_VENV/bin/pip" install --quiet --disable-pip-version-check aiosmtpd \
        || die "could not install aiosmtpd into $SMTP_VENV"
fi
export BUURTPEIL_SMTP_PYTHON="$PWD/$SMTP_VENV/bin/python"

# --- throw-away PostgreSQL cluster -------------------------------------------
# As root the server must run as another user: `postgres` (created by the
# Debian package). As any other user it runs as that user.
as_pg() {
    if [ "$(id -u)" -ne 0 ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/buurtpeil-pg.XXXXXX")
PG_DATA="$PG_TMP/data"
PG_STARTED=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$PG_STARTED" -eq 1 ]; then
        banner "Stopping throw-away PostgreSQL (port $PG_PORT)"
        ( cd / && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -t 30 stop >/dev/null ) \
            || ( cd / && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null ) \
            || true
    fi
    rm -rf "$PG_TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() {
    # Something accepts TCP connections on 127.0.0.1:$1?
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

banner "Starting throw-away PostgreSQL $(basename "$(dirname "$PG_BIN")") in $PG_TMP"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PG_TMP"
fi
chmod 700 "$PG_TMP"
( cd / && as_pg "$PG_BIN/initdb" -A trust -U postgres -E UTF8 --locale=C.UTF-8 -D "$PG_DATA" >"$PG_TMP/initdb.log" 2>&1 ) \
    || { cat "$PG_TMP/initdb.log" >&2; die "initdb failed"; }

PG_PORT=${BUURTPEIL_TEST_PG_PORT:-54329}
for _ in $(seq 1 50); do
    if ! port_in_use "$PG_PORT"; then
        if ( cd / && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_TMP/postgres-$PG_PORT.log" -w -t 60 \
                -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k '$PG_TMP' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
                start >/dev/null ); then
            PG_STARTED=1
            break
        fi
        # Lost a race for the port: try the next one. Anything else is fatal.
        if ! grep -q 'could not bind\|could not create any TCP/IP sockets\|Address already in use' "$PG_TMP/postgres-$PG_PORT.log" 2>/dev/null; then
            cat "$PG_TMP/postgres-$PG_PORT.log" >&2 || true
            die "pg_ctl start failed"
        fi
        echo "port $PG_PORT is taken, trying the next one"
    fi
    PG_PORT=$((PG_PORT + 1))
done
[ "$PG_STARTED" -eq 1 ] || die "could not start PostgreSQL (see messages above)"

for _ in $(seq 1 30); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
    sleep 1
done
"$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" || die "PostgreSQL on port $PG_PORT is not ready"

export BUURTPEIL_TEST_PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export BUURTPEIL_CHROMEDRIVER=/usr/bin/chromedriver
export BUURTPEIL_CHROMIUM=/usr/bin/chromium
echo "BUURTPEIL_TEST_PG_URL=$BUURTPEIL_TEST_PG_URL"
echo "BUURTPEIL_CHROMEDRIVER=$BUURTPEIL_CHROMEDRIVER"
echo "BUURTPEIL_CHROMIUM=$BUURTPEIL_CHROMIUM"
echo "BUURTPEIL_AXE=$BUURTPEIL_AXE"
echo "BUURTPEIL_SMTP_PYTHON=$BUURTPEIL_SMTP_PYTHON"

# --- Rust -----------------------------------------------------------------------
if [ "${BUURTPEIL_SKIP_LINT:-0}" = "1" ]; then
    banner "Skipping cargo fmt / cargo clippy (BUURTPEIL_SKIP_LINT=1)"
else
    # rustfmt and clippy come with rustup's default profile; a toolchain
    # without them cannot fetch them here (no network beyond the package
    # registries), so say so loudly instead of failing the tests.
    if cargo fmt --version >/dev/null 2>&1; then
        banner "cargo fmt --check"
        cargo fmt --check
    else
        banner "WARNING: rustfmt is not installed; formatting NOT checked"
    fi
    if cargo clippy --version >/dev/null 2>&1; then
        banner "cargo clippy --all-targets -- -D warnings"
        cargo clippy --all-targets -- -D warnings
    else
        banner "WARNING: clippy is not installed; lints NOT checked"
    fi
fi

# --- cargo deny: licences, duplicates, sources (deny.toml) --------------------
# Installed from crates.io once (≈ 5 minutes); checked offline against
# Cargo.lock. Security advisories need the RustSec database from GitHub:
# tried, and reported plainly when it cannot be fetched.
if [ "${BUURTPEIL_SKIP_DENY:-0}" = "1" ]; then
    banner "Skipping cargo deny (BUURTPEIL_SKIP_DENY=1)"
else
    if ! cargo deny --version >/dev/null 2>&1; then
        banner "Installing cargo-deny from crates.io"
        cargo install --locked --quiet cargo-deny@0.20.2 || die "could not install cargo-deny"
    fi
    banner "cargo deny --offline check licenses bans sources"
    { cargo deny --offline check licenses bans sources 2>&1 | grep -E '^(error|warning)\[|ok|FAILED' | sort | uniq -c; } || true
    cargo deny --offline check licenses bans sources >/dev/null 2>&1 \
        || { cargo deny --offline check licenses bans sources; die "cargo deny: licences, bans or sources failed"; }
    banner "cargo deny check advisories"
    if timeout 120 cargo deny check advisories >"${TMPDIR:-/tmp}/buurtpeil-advisories.log" 2>&1; then
        echo "advisories ok"
    elif grep -qi "could not resolve host\|unable to access\|failed to fetch\|network" "${TMPDIR:-/tmp}/buurtpeil-advisories.log"; then
        echo "WARNING: security advisories NOT checked: the RustSec database could not be fetched from GitHub"
    else
        cat "${TMPDIR:-/tmp}/buurtpeil-advisories.log"
        die "cargo deny: a dependency has a security advisory"
    fi
fi

banner "cargo test --all-targets $*"
cargo test --all-targets "$@"

banner "All checks passed"
