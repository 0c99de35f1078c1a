#!/usr/bin/env bash
# Build Marquee: the WASM bundle into target/site and the `marquee` server binary.
# Usage: scripts/build.sh [--release]
source "$(dirname "$0")/lib.sh"
mode=dev; [ "${1:-}" = "--release" ] && mode=release
build_site "$mode"
build_server "$mode"
say "built: target/site and target/$([ $mode = release ] && echo release || echo debug)/marquee"
