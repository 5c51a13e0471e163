#!/usr/bin/env bash
# Build the contracts in contracts/ to wasm32, reproducibly, into contracts/artifacts/.
#
#   scripts/build-contracts.sh           build every contract and update contracts/artifacts/
#                                        (wasm, SHA256SUMS, TOOLCHAIN)
#   scripts/build-contracts.sh NAME...   build only these (contracts/NAME), then update SHA256SUMS
#   scripts/build-contracts.sh --check   rebuild all into a scratch directory and fail if any
#                                        artifact differs from the committed one (CI runs this)
#
# A contract is any directory contracts/NAME with a Cargo.toml whose package is vellum-NAME (and
# which is a member of the workspace); nothing lists them here.
#
# Toolchain, in order of preference:
#   1. Debian's rustc-web 1.96 with its own standard library sources (apt-get install -y rustc-web
#      rust-web-src cargo-web lld): core and alloc are built from source with -Zbuild-std. This is
#      the toolchain the committed artifacts are built with (contracts/artifacts/TOOLCHAIN).
#   2. rustup with the wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown).
#      Works everywhere rustup can download; its output differs from the committed artifacts
#      whenever its compiler differs, so --check insists on toolchain 1.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
artifacts="$root/contracts/artifacts"
mode=build
[ "${1:-}" = "--check" ] && mode=--check

# Every contract, found: contracts/NAME/Cargo.toml naming package vellum-NAME.
all=()
for manifest in contracts/*/Cargo.toml; do
  name=$(basename "$(dirname "$manifest")")
  if ! grep -q "^name = \"vellum-$name\"" "$manifest"; then
    echo "error: $manifest must name its package vellum-$name" >&2
    exit 1
  fi
  all+=("$name")
done
contracts=("${all[@]}")
if [ "$mode" = build ] && [ $# -gt 0 ]; then
  contracts=()
  for name in "$@"; do
    if [[ ! " ${all[*]} " =~ " $name " ]]; then
      echo "error: no contract '$name' (contracts/$name/Cargo.toml); contracts: ${all[*]}" >&2
      exit 1
    fi
    contracts+=("$name")
  done
fi

# Paths differ between checkouts; remap them so they cannot leak into the output.
remap="--remap-path-prefix=$root=/vellum --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"

if [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ] && command -v wasm-ld >/dev/null; then
  toolchain=debian
  cargo_bin=/usr/bin/cargo
  export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld
  build_std=(-Zbuild-std=core,alloc)
elif command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  toolchain=rustup
  cargo_bin=cargo
  build_std=()
else
  cat >&2 <<'MSG'
error: no wasm32 toolchain found. Install one of:
  apt-get install -y rustc-web rust-web-src cargo-web lld     (Debian; reproduces the committed artifacts)
  rustup target add wasm32-unknown-unknown                     (rustup)
MSG
  exit 1
fi

if [ "$mode" = "--check" ] && [ "$toolchain" != debian ]; then
  echo "error: --check needs Debian's rustc-web toolchain, which built the committed artifacts" >&2
  exit 1
fi

target_dir="$root/target/contracts"
out=$artifacts
if [ "$mode" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

echo "building ${#contracts[@]} contracts with the $toolchain toolchain ($("${RUSTC:-rustc}" --version))"
for name in "${contracts[@]}"; do
  echo "  - $name"
  RUSTFLAGS="$remap" CARGO_TARGET_DIR="$target_dir" "$cargo_bin" rustc --quiet --locked \
    -p "vellum-$name" --profile contract --target wasm32-unknown-unknown "${build_std[@]}" \
    --crate-type cdylib
  cp "$target_dir/wasm32-unknown-unknown/contract/vellum_$name.wasm" "$out/$name.wasm"
done
# The sums cover every contract's artifact (when building some, the others' are as committed).
(cd "$out" && sha256sum "${all[@]/%/.wasm}" > SHA256SUMS)
"${RUSTC:-rustc}" --version > "$out/TOOLCHAIN"

if [ "$mode" = "--check" ]; then
  if diff -u "$artifacts/SHA256SUMS" "$out/SHA256SUMS" && diff -u "$artifacts/TOOLCHAIN" "$out/TOOLCHAIN"; then
    echo "contract artifacts are reproducible: rebuilt bytes match contracts/artifacts/SHA256SUMS"
  else
    echo "error: rebuilt contracts differ from contracts/artifacts; run scripts/build-contracts.sh and commit the result" >&2
    exit 1
  fi
else
  echo "artifacts written to contracts/artifacts/:"
  (cd "$out" && ls -l "${contracts[@]/%/.wasm}" | awk '{print "  " $NF ": " $5 " bytes"}')
fi
