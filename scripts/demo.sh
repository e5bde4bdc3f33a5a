#!/usr/bin/env bash
# The demo from a fresh clone: installs the missing system packages that the
# build needs (as scripts/test.sh does: build-essential, libpq-dev, cmake,
# libclang-dev, with apt-get, as root or with sudo), builds buurtpeil and
# runs `buurtpeil serve --demo` on http://127.0.0.1:8080.
#
#   scripts/demo.sh                          # release build (≈ 6 minutes the first time)
#   scripts/demo.sh --bind 0.0.0.0:9000      # extra arguments go to `serve --demo`
#   BUURTPEIL_DEMO_PROFILE=dev scripts/demo.sh   # debug build: quicker to build, slower to
#                                                # run; reuses what `cargo test` built
#
# Rust itself (cargo) must be installed already: https://rustup.rs.
# The binary is built in CARGO_TARGET_DIR (default target/) and replaces this
# script's process, so Ctrl-C or a SIGTERM stops the server.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/lib/prereqs.sh
. scripts/lib/prereqs.sh

need_build_packages
install_missing
need_cargo

case "${BUURTPEIL_DEMO_PROFILE:-release}" in
    release) build=(--release) dir=release ;;
    # The examples need the dev-dependencies, so cargo resolves the features
    # of every crate as `cargo test` does: after a test run (CI) only
    # buurtpeil itself is compiled, not its few hundred dependencies again.
    dev | debug) build=(--examples) dir=debug ;;
    *) prereqs_die "BUURTPEIL_DEMO_PROFILE=${BUURTPEIL_DEMO_PROFILE} is not release or dev" ;;
esac

printf '\n==> cargo build %s --bin buurtpeil\n' "${build[*]:-}"
cargo build ${build[@]+"${build[@]}"} --bin buurtpeil
printf '\n==> buurtpeil serve --demo %s\n' "$*"
exec "${CARGO_TARGET_DIR:-target}/$dir/buurtpeil" serve --demo "$@"
