#!/usr/bin/env bash
# Builds every adapter crate (adapters/*/ and tests/adapters/*/, found by listing the
# directories) into a WebAssembly component at target/components/<crate-name>.wasm.
#
# Two paths:
#   - wasm32-wasip2 installed in rustup: `cargo build --target wasm32-wasip2 --profile wasm`
#     links components directly.
#   - otherwise (the offline recipe of the project's wasm-toolchain notes): Debian's Rust
#     (rustc-web, cargo-web, rust-web-src; installed when missing) builds std from source for
#     wasm32-unknown-unknown, rustup's rust-lld links, and switchyard-componentize (built
#     natively from sdk/componentize) turns each core module into a component.
#
# Idempotent and incremental: target dirs are reused (target/wasm, target/tools).
# Usage: scripts/build-adapters.sh [crate-name...]   (default: every adapter crate)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

OUT_DIR="$ROOT/target/components"
WASM_TARGET_DIR="$ROOT/target/wasm"
TOOLS_TARGET_DIR="$ROOT/target/tools"
PROFILE=wasm
DEBIAN_PACKAGES=(rustc-web cargo-web rust-web-src)

say() { echo "==> $*" >&2; }
die() { echo "build-adapters: error: $*" >&2; exit 1; }

# --- discover the adapter crates -------------------------------------------------------
crates=()
for dir in adapters/*/ tests/adapters/*/; do
    [ -f "$dir/Cargo.toml" ] || continue
    name="$(sed -n 's/^name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$dir/Cargo.toml" | head -n1)"
    [ -n "$name" ] || die "no package name in $dir/Cargo.toml"
    crates+=("$name")
done
if [ "$#" -gt 0 ]; then
    for wanted in "$@"; do
        printf '%s\n' "${crates[@]}" | grep -qx -- "$wanted" || die "no adapter crate named '$wanted' (found: ${crates[*]:-none})"
    done
    crates=("$@")
fi
[ "${#crates[@]}" -gt 0 ] || die "no adapter crates found under adapters/ or tests/adapters/"
say "adapter crates: ${crates[*]}"

package_args=()
for c in "${crates[@]}"; do package_args+=(-p "$c"); done

mkdir -p "$OUT_DIR"

# A wasm binary's layer field (bytes 6-7) is 1 for a component, 0 for a core module.
check_component() {
    local file="$1" header
    [ -s "$file" ] || die "$file is missing or empty"
    header="$(od -An -tx1 -N8 "$file" | tr -d ' \n')"
    [ "$header" = "0061736d0d000100" ] || die "$file is not a wasm component (header $header)"
}

# --- path 1: wasm32-wasip2 -------------------------------------------------------------
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    say "wasm32-wasip2 is installed: building components with cargo directly"
    cargo build --target wasm32-wasip2 --profile "$PROFILE" --target-dir "$WASM_TARGET_DIR" "${package_args[@]}" \
        || die "cargo build for wasm32-wasip2 failed"
    for c in "${crates[@]}"; do
        artifact="$WASM_TARGET_DIR/wasm32-wasip2/$PROFILE/${c//-/_}.wasm"
        [ -f "$artifact" ] || die "cargo produced no $artifact (is $c a cdylib?)"
        cp "$artifact" "$OUT_DIR/$c.wasm"
        check_component "$OUT_DIR/$c.wasm"
        say "$OUT_DIR/$c.wasm ($(wc -c <"$OUT_DIR/$c.wasm") bytes)"
    done
    exit 0
fi

# --- path 2: Debian's Rust + build-std for wasm32-unknown-unknown + componentize -------
say "wasm32-wasip2 not installed in rustup: using Debian's Rust with -Zbuild-std for wasm32-unknown-unknown"

"$ROOT/scripts/apt-install.sh" "${DEBIAN_PACKAGES[@]}" \
    || die "could not install ${DEBIAN_PACKAGES[*]} (Debian's Rust with std sources)"

DEB_CARGO=/usr/bin/cargo
DEB_RUSTC=/usr/bin/rustc
[ -x "$DEB_CARGO" ] || die "$DEB_CARGO missing although cargo-web is installed"
[ -x "$DEB_RUSTC" ] || die "$DEB_RUSTC missing although rustc-web is installed"
deb_sysroot="$("$DEB_RUSTC" --print sysroot)"
[ -d "$deb_sysroot/lib/rustlib/src/rust/library" ] \
    || die "std sources not found under $deb_sysroot/lib/rustlib/src/rust/library (rust-web-src)"

# Debian's rust-lld is a dangling link on Debian 12: use the one rustup's toolchain ships.
command -v rustc >/dev/null 2>&1 || die "rustup's rustc not found in PATH (needed for its rust-lld)"
rustup_sysroot="$(rustc --print sysroot)"
host_triple="$(rustc -vV | sed -n 's/^host: //p')"
RUST_LLD="$rustup_sysroot/lib/rustlib/$host_triple/bin/rust-lld"
[ -x "$RUST_LLD" ] || die "rust-lld not found at $RUST_LLD"

say "building switchyard-componentize (native, rustup's cargo) into $TOOLS_TARGET_DIR"
cargo build --release -p switchyard-componentize --target-dir "$TOOLS_TARGET_DIR" \
    || die "building switchyard-componentize failed"
COMPONENTIZE="$TOOLS_TARGET_DIR/release/switchyard-componentize"

say "building core modules with $("$DEB_RUSTC" --version) into $WASM_TARGET_DIR"
env PATH="/usr/bin:$PATH" RUSTC="$DEB_RUSTC" RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$RUST_LLD" \
    "$DEB_CARGO" build --profile "$PROFILE" -Zbuild-std=std,panic_abort \
    --target wasm32-unknown-unknown --target-dir "$WASM_TARGET_DIR" "${package_args[@]}" \
    || die "building the core modules failed"

for c in "${crates[@]}"; do
    core="$WASM_TARGET_DIR/wasm32-unknown-unknown/$PROFILE/${c//-/_}.wasm"
    [ -f "$core" ] || die "cargo produced no $core (is $c a cdylib?)"
    "$COMPONENTIZE" "$core" "$OUT_DIR/$c.wasm" || die "componentizing $c failed"
    check_component "$OUT_DIR/$c.wasm"
    say "$OUT_DIR/$c.wasm ($(wc -c <"$OUT_DIR/$c.wasm") bytes)"
done
