# shellcheck shell=bash
# Storage emulators for the tests and benchmarks: an S3 endpoint (moto's server mode,
# from PyPI, in a venv outside the repo) and a GCS emulator (fake-gcs-server, built from
# the Go module proxy; gcp-storage-emulator from PyPI if that build fails).
# Sourced by scripts/bootstrap (set -euo pipefail; say, die, as_root, go_install defined).
# Quick when everything is in place: two stamp checks, no network.

STORAGE_EMU_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/livekit-recorder"
STORAGE_EMU_VENV="$STORAGE_EMU_CACHE/venv"
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
FAKE_GCS_VERSION="${FAKE_GCS_VERSION:-v1.56.1}"
GCP_STORAGE_EMULATOR_VERSION="${GCP_STORAGE_EMULATOR_VERSION:-2024.8.3}"
mkdir -p "$STORAGE_EMU_CACHE"

storage_emu_venv() {
  if [ ! -x "$STORAGE_EMU_VENV/bin/pip" ]; then
    say "creating python venv $STORAGE_EMU_VENV"
    python3 -m venv "$STORAGE_EMU_VENV" || die "python3 -m venv $STORAGE_EMU_VENV failed (apt install python3-venv)"
  fi
}

# --- S3: moto_server ------------------------------------------------------------------
moto_stamp="$STORAGE_EMU_CACHE/moto.version"
if [ ! -x "$STORAGE_EMU_VENV/bin/moto_server" ] || [ "$(cat "$moto_stamp" 2>/dev/null)" != "$MOTO_VERSION" ]; then
  storage_emu_venv
  say "installing moto[server]==$MOTO_VERSION into $STORAGE_EMU_VENV"
  "$STORAGE_EMU_VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
    || die "pip install moto[server]==$MOTO_VERSION failed"
  "$STORAGE_EMU_VENV/bin/moto_server" --help >/dev/null 2>&1 || die "moto_server does not run after install"
  printf '%s' "$MOTO_VERSION" >"$moto_stamp"
fi

# --- GCS: fake-gcs-server (Go), else gcp-storage-emulator (PyPI) ------------------------
gcs_stamp="$STORAGE_EMU_CACHE/fake-gcs-server.version"
if [ ! -x /usr/local/bin/fake-gcs-server ] || [ "$(cat "$gcs_stamp" 2>/dev/null)" != "$FAKE_GCS_VERSION" ]; then
  # go_install dies on failure: run it in a subshell so the fallback below can take over.
  if ( go_install fake-gcs-server "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION" fake-gcs-server ); then
    printf '%s' "$FAKE_GCS_VERSION" >"$gcs_stamp"
  else
    say "fake-gcs-server $FAKE_GCS_VERSION did not build; falling back to gcp-storage-emulator from PyPI"
    if [ ! -x "$STORAGE_EMU_VENV/bin/gcp-storage-emulator" ]; then
      storage_emu_venv
      "$STORAGE_EMU_VENV/bin/pip" install -q --disable-pip-version-check "gcp-storage-emulator==$GCP_STORAGE_EMULATOR_VERSION" \
        || die "no GCS emulator: fake-gcs-server build and pip install gcp-storage-emulator both failed"
    fi
  fi
fi
unset moto_stamp gcs_stamp
