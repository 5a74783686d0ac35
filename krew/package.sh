#!/usr/bin/env bash
# Builds the release archive for one platform and writes its uri and sha256
# into the krew manifest.
#
#   krew/package.sh [--binary PATH] [--os OS] [--arch ARCH] [--dist DIR] [--manifest FILE]
#
# Defaults: the host's os/arch, a `cargo build --release --locked` binary,
# dist/, krew/nlb.yaml. The archive is dist/kubectl-nlb_<version>_<os>_<arch>.tar.gz
# holding kubectl-nlb, kubectl_complete-nlb and LICENSE, built reproducibly
# (sorted names, zero owners and times, gzip without a name or time stamp).
set -euo pipefail
cd "$(dirname "$0")/.."

binary="" os="" arch="" dist=dist manifest=krew/nlb.yaml
while [ $# -gt 0 ]; do
  case $1 in
    --binary) binary=$2; shift 2 ;;
    --os) os=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --dist) dist=$2; shift 2 ;;
    --manifest) manifest=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 1 ;;
  esac
done
version=v$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
if [ -z "$os" ]; then
  case $(uname -s) in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "unsupported OS $(uname -s)" >&2; exit 1 ;; esac
fi
if [ -z "$arch" ]; then
  case $(uname -m) in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) echo "unsupported arch $(uname -m)" >&2; exit 1 ;; esac
fi
if [ -z "$binary" ]; then
  cargo build --release --locked --bin kubectl-nlb
  binary=${CARGO_TARGET_DIR:-target}/release/kubectl-nlb
fi
[ -x "$binary" ] || { echo "no executable at $binary" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$binary" "$stage/kubectl-nlb"
install -m 0755 completions/kubectl_complete-nlb "$stage/kubectl_complete-nlb"
install -m 0644 LICENSE "$stage/LICENSE"
mkdir -p "$dist"
archive="$dist/kubectl-nlb_${version}_${os}_${arch}.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
  -C "$stage" -cf - kubectl-nlb kubectl_complete-nlb LICENSE | gzip -n -9 >"$archive"
if command -v sha256sum >/dev/null; then
  sum=$(sha256sum "$archive" | cut -d' ' -f1)
else
  sum=$(shasum -a 256 "$archive" | cut -d' ' -f1)
fi
uri="https://github.com/kubectl-nlb/kubectl-nlb/releases/download/${version}/$(basename "$archive")"

# Rewrite the uri and sha256 of the platform whose selector is this os/arch.
python3 - "$manifest" "$os" "$arch" "$uri" "$sum" <<'PY'
import re, sys
path, os_, arch, uri, digest = sys.argv[1:]
lines = open(path).read().split("\n")
out, in_block, os_ok, arch_ok, done = [], False, False, False, False
for line in lines:
    stripped = line.strip()
    if stripped.startswith("- selector:"):
        in_block, os_ok, arch_ok = True, False, False
    if in_block and stripped == f"os: {os_}":
        os_ok = True
    if in_block and stripped == f"arch: {arch}":
        arch_ok = True
    if in_block and os_ok and arch_ok:
        if stripped.startswith("uri:"):
            line = re.sub(r"uri:.*", f"uri: {uri}", line)
        elif stripped.startswith("sha256:"):
            line = re.sub(r"sha256:.*", f'sha256: "{digest}"', line)
            done = True
            in_block = False
    out.append(line)
if not done:
    sys.exit(f"no platform {os_}/{arch} in {path}")
open(path, "w").write("\n".join(out))
PY
echo "$archive $sum"
