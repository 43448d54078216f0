# shellcheck shell=bash
# Synthetic LiveKit publishers that cost almost nothing (tools/file-publisher, Go): built
# once per machine into /usr/local/bin, and again only when its sources change (the binary
# carries the hash of the sources it was built from: `lkrec-file-publisher --version`).
# Sourced by scripts/bootstrap (set -euo pipefail; ROOT, say, die, as_root defined).
fp_src="$ROOT/tools/file-publisher"
fp_bin=/usr/local/bin/lkrec-file-publisher
fp_hash=$(cd "$fp_src" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-16)
if [ "$("$fp_bin" --version 2>/dev/null || true)" != "$fp_hash" ]; then
  command -v go >/dev/null 2>&1 || die "go is needed to build tools/file-publisher; install Go 1.26+"
  say "building tools/file-publisher (a few minutes the first time)"
  fp_out=$(mktemp -d)
  # -mod=readonly: the committed go.sum is what is built, never rewritten on the way
  (cd "$fp_src" && go build -mod=readonly -trimpath -ldflags "-X main.sourceHash=$fp_hash" -o "$fp_out/lkrec-file-publisher" .) \
    || die "go build of tools/file-publisher failed"
  as_root install -m 0755 "$fp_out/lkrec-file-publisher" "$fp_bin"
  rm -rf "$fp_out"
fi
unset fp_src fp_bin fp_hash fp_out
