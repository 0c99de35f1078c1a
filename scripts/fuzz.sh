#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 600), one after another.
# Usage: scripts/fuzz.sh [seconds] [target...]   (default: every target)
#
# Not part of scripts/test.sh or CI: a run takes minutes per target and needs a nightly Rust
# (cargo-fuzz builds with sanitizer flags that only nightly accepts). Everything runs under
# `nice -n 19` with one build job, so it can share a machine with other builds.
# Per target it prints libFuzzer's figures (seconds fuzzed, executions, inputs kept in the
# corpus) and the crash artifact, if any; libFuzzer's full output is kept in
# fuzz/logs/<target>.log. Corpora grow in fuzz/corpus/<target> (not committed);
# fuzz/seeds/<target> holds the committed starting inputs, including every input that once found
# a bug. Exits non-zero if any target crashed.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

seconds="${1:-600}"
shift || true
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || die "seconds must be a positive number, not '$seconds'"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
  say "installing the $toolchain Rust toolchain (cargo-fuzz needs it)"
  rustup toolchain install "$toolchain" --profile minimal >&2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz (a few minutes, once per machine)"
  nice -n 19 cargo install cargo-fuzz --locked >&2 || nice -n 19 cargo install cargo-fuzz >&2
fi

# `-a`: debug assertions (and overflow checks) on, so an arithmetic overflow is a finding.
fuzz=(nice -n 19 cargo "+$toolchain" fuzz)
say "building the fuzz targets"
"${fuzz[@]}" build -a >&2

mkdir -p fuzz/logs
crashed=0
printf '%-20s %8s %14s %8s  %s\n' target seconds executions corpus finding
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || mapfile -t targets < <("${fuzz[@]}" list)
for target in "${targets[@]}"; do
  corpus="fuzz/corpus/$target"
  log="fuzz/logs/$target.log"
  mkdir -p "$corpus"
  dirs=("$corpus")
  [ -d "fuzz/seeds/$target" ] && dirs+=("fuzz/seeds/$target")
  say "fuzzing $target for $seconds s"
  status=0
  "${fuzz[@]}" run -a "$target" "${dirs[@]}" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  # libFuzzer's own figures: "Done N runs in S second(s)", the final stats, and the corpus it
  # kept ("corp: N/size" on its last status line).
  ran="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)"
  executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  kept="$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' "$log" | tail -n 1)"
  artifact="$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log" | tail -n 1)"
  finding="none"
  if [ -n "$artifact" ]; then
    finding="crash: $artifact"
    crashed=1
  elif [ "$status" -ne 0 ]; then
    finding="libFuzzer exited $status (see $log)"
    crashed=1
  fi
  printf '%-20s %8s %14s %8s  %s\n' "$target" "${ran:-?}" "${executions:-?}" "${kept:-?}" \
    "$finding"
done
exit "$crashed"
