#!/usr/bin/env bash
# Build and start Marquee. With no configuration it serves the built-in demo library on
# http://127.0.0.1:3000 (SQLite and demo media in ./data). Extra arguments go to `marquee`.
source "$(dirname "$0")/lib.sh"
mode=dev; if [ "${1:-}" = "--release" ]; then mode=release; shift; fi
ensure_ffmpeg
build_site "$mode"
build_server "$mode"
cd "$ROOT"
exec "$ROOT/target/$([ $mode = release ] && echo release || echo debug)/marquee" "$@"
