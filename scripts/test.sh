#!/usr/bin/env bash
# Marquee's whole test suite: formatting, lints, Rust tests (SQLite and PostgreSQL, in-process
# cache and Redis, the Plex client against the fake Plex) and the browser tests in headless
# Chromium. Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (override with
# MARQUEE_TEST_DATABASE_URL / MARQUEE_TEST_REDIS_URL); tests that need them fail loudly without.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_ffmpeg
ensure_chromium
ensure_nginx
ensure_podman
ensure_npm_packages

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (server side, all targets; then the WASM frontend)"
ensure_wasm_target
cargo clippy --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

build_site dev
# One build of everything the tests use, the server and fake binaries included, with the
# features the tests unify (dev-dependencies add some): a separate `cargo build -p server` would
# compile tokio and everything above it a second time.
say "building the server, the fakes and the tests"
cargo build --all-targets

# Both suites always run; the script fails at the end if either did.
set +e
say "Rust tests"
cargo test --no-fail-fast 2>&1 | tee target/rust-tests.log
rust_status=${PIPESTATUS[0]}

say "browser tests (headless Chromium)"
# Every test is bounded (hooks by HOOK in e2e/harness.mjs), so a hang fails with a message.
node --test --test-concurrency=1 --test-timeout=300000 e2e/
e2e_status=$?
set -e

if [ "$rust_status" -ne 0 ] || [ "$e2e_status" -ne 0 ]; then
  die "tests failed (rust: $rust_status, browser: $e2e_status)"
fi
say "all tests passed"
