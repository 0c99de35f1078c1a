#!/usr/bin/env bash
# Foundation benchmarks; prints the figures recorded in docs/benchmarks.md.
#   1. release WASM bundle size, raw and gzip -9
#   2. cold start: process start → /healthz 200 (fresh data dir, demo media already generated)
#   3. SSR throughput of a section page with a warm cache (wrk, 2 threads, 32 connections, 15 s)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
command -v wrk >/dev/null || apt_install wrk
ensure_ffmpeg
build_site release
build_server release
BIN="$ROOT/target/release/marquee"
MEDIA="$ROOT/target/demo-media"
"$BIN" demo-media >/dev/null 2>&1 || MARQUEE_DEMO_MEDIA_DIR="$MEDIA" "$BIN" demo-media

wasm="$SITE_ROOT/pkg/marquee_bg.wasm"
raw=$(stat -c %s "$wasm"); gz=$(gzip -9 -c "$wasm" | wc -c)
js=$(stat -c %s "$SITE_ROOT/pkg/marquee.js")
printf 'wasm_bundle_raw_bytes %d (%.0f KiB)\nwasm_bundle_gzip_bytes %d (%.0f KiB)\nglue_js_bytes %d\n' \
  "$raw" "$(echo "$raw/1024" | bc -l)" "$gz" "$(echo "$gz/1024" | bc -l)" "$js"

port=3917
start_server() {
  local data; data=$(mktemp -d)
  MARQUEE_BIND=127.0.0.1:$port MARQUEE_DATA_DIR="$data" MARQUEE_DEMO_MEDIA_DIR="$MEDIA" \
    MARQUEE_SITE_ROOT="$SITE_ROOT" RUST_LOG=warn "$BIN" serve >/dev/null 2>&1 &
  echo $!
}
wait_healthy() {
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.005; done
}

times=()
for _ in 1 2 3 4 5; do
  t0=$(date +%s%N); pid=$(start_server); wait_healthy; t1=$(date +%s%N)
  times+=($(( (t1 - t0) / 1000000 )))
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
echo "cold_start_ms runs: $sorted(median $(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p))"

pid=$(start_server); wait_healthy
page="/library/3?page=2"
curl -fs "http://127.0.0.1:$port$page" >/dev/null
bytes=$(curl -fs "http://127.0.0.1:$port$page" | wc -c)
echo "ssr_page $page ($bytes bytes of HTML, 60 posters)"
wrk -t2 -c32 -d15s "http://127.0.0.1:$port$page" | sed 's/^/  /'
rss=$(ps -o rss= -p "$pid"); echo "server_rss_after_load_kib $rss"
kill "$pid"; wait "$pid" 2>/dev/null || true
