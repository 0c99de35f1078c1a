# Shared helpers for Marquee's scripts: each `ensure_*` installs what a fresh machine lacks,
# from the package registries only, and says what it is doing.
set -euo pipefail

say() { printf '\033[1;33m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The site's names come from Leptos.toml (a server test checks that the server agrees).
leptos_setting() {
  local value
  value="$(sed -n "s/^$1 *= *\"\(.*\)\"/\1/p" "$ROOT/Leptos.toml")"
  [ -n "$value" ] || die "Leptos.toml has no $1"
  printf '%s' "$value"
}
SITE_ROOT="$ROOT/$(leptos_setting site-root)"
PKG_DIR="$SITE_ROOT/$(leptos_setting site-pkg-dir)"
OUTPUT_NAME="$(leptos_setting output-name)"


ensure_wasm_target() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown Rust target"
    rustup target add wasm32-unknown-unknown >&2
  fi
}

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
ensure_wasm_bindgen() {
  local want have
  want="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$ROOT/Cargo.lock")"
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have" != "$want" ]; then
    say "installing wasm-bindgen-cli $want (a few minutes, once per machine)"
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback \
      cargo install wasm-bindgen-cli --version "$want" >&2
  fi
}

# hls.js and Discord's Embedded App SDK (bundled into the site, the SDK by esbuild), binaryen's
# wasm-opt and playwright-core come from npm.
ensure_npm_packages() {
  command -v npm >/dev/null || die "npm is missing: install Node.js (apt-get install nodejs npm)"
  if [ ! -d "$ROOT/node_modules/@discord/embedded-app-sdk" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    say "installing npm packages (hls.js, the Discord Embedded App SDK, esbuild, binaryen, playwright-core)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $* with apt-get"
    if [ -z "${MARQUEE_APT_UPDATED:-}" ]; then apt-get update -qq >&2; export MARQUEE_APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
  else
    die "please install: $* (e.g. sudo apt-get install $*)"
  fi
}

# ffmpeg makes the demo library's media at first start.
ensure_ffmpeg() { command -v ffmpeg >/dev/null || apt_install ffmpeg; }

# Debian's Chromium drives the browser tests (playwright-core cannot download its own).
ensure_chromium() { command -v chromium >/dev/null || apt_install chromium fonts-dejavu-core; }

# nginx (and openssl, curl) for the deployment guide's proxy test (e2e/nginx.test.mjs).
ensure_nginx() {
  [ -x /usr/sbin/nginx ] || apt_install nginx-light
  command -v openssl >/dev/null || apt_install openssl
  command -v curl >/dev/null || apt_install curl
}

# Podman and podman-compose for the container tests (e2e/container.test.mjs and
# e2e/compose.test.mjs), set up to run here: runc (crun cannot set its rlimits in this kind of
# sandbox), explicit ulimits, and a `debian:bookworm-slim` base
# image: pulled where a registry answers, else made from Debian's packages with debootstrap and
# imported under the same name, so the one Dockerfile builds both for users and here.
ensure_podman() {
  command -v podman >/dev/null && command -v runc >/dev/null || apt_install podman buildah runc
  local conf=/etc/containers/containers.conf
  if [ -w /etc/containers ] || [ -w "$conf" ]; then
    if ! grep -qs '^runtime *= *"runc"' "$conf"; then
      say "configuring podman to use runc ($conf)"
      mkdir -p /etc/containers
      cat >>"$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
    fi
  fi
  # compose.yaml's test brings it up with podman-compose, from PyPI.
  if ! command -v podman-compose >/dev/null; then
    say "installing podman-compose from PyPI"
    python3 -m pip install -q --disable-pip-version-check podman-compose >&2
    command -v pyenv >/dev/null && pyenv rehash || true
  fi
  local base=docker.io/library/debian:bookworm-slim
  podman image exists "$base" && return 0
  say "getting the base image $base"
  if timeout 60 podman pull -q "$base" >/dev/null 2>&1; then return 0; fi
  say "no registry answers: making $base from Debian's packages with debootstrap (about 2 minutes)"
  command -v debootstrap >/dev/null || apt_install debootstrap
  local mirror rootfs
  mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  rootfs="$(mktemp -d)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >&2
  # As the real image: no package lists or caches left in it.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  tar -C "$rootfs" -c . | podman import - "$base" >/dev/null
  rm -rf "$rootfs"
}

# Build the browser bundle and the site directory. $1 = dev | release; $2 = where (target/site)
build_site() {
  local mode="${1:-dev}" SITE_ROOT="${2:-$SITE_ROOT}" profile_dir cargo_profile
  ensure_wasm_target
  ensure_wasm_bindgen
  ensure_npm_packages
  local lib pkg
  lib="$(leptos_setting lib-package)"
  pkg="$(leptos_setting site-pkg-dir)"
  if [ "$mode" = release ]; then
    profile_dir="$(leptos_setting lib-profile-release)"; cargo_profile="--profile $profile_dir"
  else cargo_profile=""; profile_dir=debug; fi
  say "building the WASM bundle ($mode)"
  (cd "$ROOT" && cargo build -p "$lib" --lib --target wasm32-unknown-unknown $cargo_profile)
  local tmp="$SITE_ROOT.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp/$pkg"
  wasm-bindgen --target web --no-typescript --out-name "$OUTPUT_NAME" --out-dir "$tmp/$pkg" \
    "$ROOT/target/wasm32-unknown-unknown/$profile_dir/$lib.wasm"
  if [ "$mode" = release ]; then
    say "optimising the WASM bundle for size (wasm-opt -Oz)"
    "$ROOT/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals --enable-reference-types \
      -o "$tmp/$pkg/${OUTPUT_NAME}_bg.wasm" "$tmp/$pkg/${OUTPUT_NAME}_bg.wasm"
  fi
  cp "$ROOT/$(leptos_setting style-file)" "$tmp/$pkg/$OUTPUT_NAME.css"
  cp "$ROOT/node_modules/hls.js/dist/hls.min.js" "$tmp/$pkg/hls.min.js"
  # Discord's Embedded App SDK for the Activity, bundled from npm (never a CDN).
  "$ROOT/node_modules/.bin/esbuild" "$ROOT/frontend/js/discord-sdk.js" --bundle --minify \
    --format=iife --target=es2020 --legal-comments=none --log-level=warning \
    --outfile="$tmp/$pkg/discord-sdk.js"
  cp -r "$ROOT/$(leptos_setting assets-dir)/." "$tmp/"
  rm -rf "$SITE_ROOT" && mv "$tmp" "$SITE_ROOT"
}

# The release binary: the release site, built into its own directory (so a dev site in
# target/site stays as it was), packed into `marquee` by marquee/build.rs; copied alone to
# target/dist/marquee. Prints its size.
build_release_binary() {
  local site="$ROOT/target/site-release" bin
  build_site release "$site"
  say "building the release binary with the site inside"
  (cd "$ROOT" && MARQUEE_SITE_DIR="$site" cargo build --release -p marquee)
  mkdir -p "$ROOT/target/dist"
  bin="$ROOT/target/dist/marquee"
  # Without its symbol table (a third of the file); target/release/marquee keeps it for profiling.
  if command -v strip >/dev/null; then strip -o "$bin.tmp" "$ROOT/target/release/marquee"
  else cp "$ROOT/target/release/marquee" "$bin.tmp"; fi
  mv "$bin.tmp" "$bin"
  say "built $bin: $(stat -c %s "$bin") bytes ($(( $(stat -c %s "$bin") / 1048576 )) MiB; gzipped $(gzip -c "$bin" | wc -c) bytes)"
}

# Build the server binary. $1 = dev | release
build_server() {
  local mode="${1:-dev}"
  say "building the server ($mode)"
  if [ "$mode" = release ]; then (cd "$ROOT" && cargo build -p marquee -p marquee-fakes --release)
  else (cd "$ROOT" && cargo build -p marquee -p marquee-fakes); fi
}
