#!/usr/bin/env bash
# Build the self-contained `marquee`: the release site (WASM, JS, CSS, hls.js, the Discord SDK)
# inside the binary, precompressed, under content-hashed names. The result, target/dist/marquee,
# runs from any directory with nothing beside it (ffmpeg on the PATH makes the demo library).
source "$(dirname "$0")/lib.sh"
build_release_binary
