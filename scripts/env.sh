# Sourced by the other scripts: one toolchain and one build cache for every cargo call.
#
# GATEHOUSE_CACHE (default ~/.cache/gatehouse) holds the tools this project installs
# (cargo-leptos, wasm-bindgen) and, unless CARGO_TARGET_DIR is set, the shared build
# directory, so a fresh clone reuses earlier builds.

GATEHOUSE_CACHE="${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}"
export GATEHOUSE_CACHE
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$GATEHOUSE_CACHE/target}"
TOOLS_DIR="$GATEHOUSE_CACHE/tools"

CARGO_LEPTOS_VERSION=0.3.11

# Which Rust builds both halves:
#  - "debian": Debian's rustc-web (1.96), with std built from source (-Zbuild-std); preferred,
#    because the pinned cargo-leptos needs rustc 1.96 and it is the same on every machine;
#  - "rustup": the rustup toolchain, when it has the wasm32 target and Debian's is absent.
wasm_toolchain() {
  if [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ]; then
    echo debian
  elif command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo rustup
  else
    echo none
  fi
}

WASM_TOOLCHAIN="$(wasm_toolchain)"
LEPTOS_EXTRA_ARGS=()
if [ "$WASM_TOOLCHAIN" = debian ]; then
  # Debian's rustc first, for both halves, so server and wasm come from one compiler.
  export PATH="$TOOLS_DIR/bin:/usr/bin:$PATH"
  export RUSTC_BOOTSTRAP=1
  LEPTOS_EXTRA_ARGS=(--lib-cargo-args=-Zbuild-std=std,panic_abort)
else
  export PATH="$TOOLS_DIR/bin:$PATH"
fi

# The release build of every script: brotli and gzip copies of each static file made at
# build time (--precompress).
LEPTOS_RELEASE_ARGS=(--release --precompress "${LEPTOS_EXTRA_ARGS[@]}")

# The wasm-bindgen version pinned in Cargo.lock.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$PROJECT_ROOT/Cargo.lock"
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
