# shellcheck shell=bash
# helm, for the chart's tests (`helm lint`, `helm template` of deploy/helm/livekit-recorder,
# both offline): built from the Go module proxy once per machine into /usr/local/bin, like
# livekit-server (about 4 minutes on 2 cores, a 110 MB binary). The build runs at nice 19,
# so that it yields to whatever else the machine runs meanwhile.
# Sourced by scripts/bootstrap (set -euo pipefail; say, die, as_root, go_install defined).
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# built with `go install`, helm says only "v3.22" of itself: the module version it was built
# from is in the binary's build info
helm_built() { go version -m /usr/local/bin/helm 2>/dev/null | grep -Eq "^[[:space:]]*mod[[:space:]]+helm\.sh/helm/v3[[:space:]]+$HELM_VERSION[[:space:]]"; }
if ! helm_built; then
  # a subshell niced as a whole (go and the compilers it starts inherit it); go_install's
  # die ends only the subshell, so say it again here
  ( renice -n 19 -p "$BASHPID" >/dev/null && go_install helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" helm ) \
    || die "helm $HELM_VERSION did not build"
  helm_built || die "/usr/local/bin/helm is not helm $HELM_VERSION after the build"
fi
unset -f helm_built
