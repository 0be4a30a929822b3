# shellcheck shell=bash
# Shared by scripts/stack and scripts/test: repository paths, messages and
# pinned tool installs into the git-ignored .local/ folder. Source it; it
# defines functions and variables only.

HOOKS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HOOKS_LOCAL="$HOOKS_ROOT/.local"
HOOKS_TOOLS="$HOOKS_LOCAL/tools"

# Go is installed at /usr/local/go on the project's machines; a PATH without it is common in CI.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH="$PATH:/usr/local/go/bin"
fi

# say never fails: a message to a closed terminal or pipe must not stop a
# script (under set -e) in the middle of cleaning up.
say() { printf '%s: %s\n' "${HOOKS_SCRIPT:-hooks}" "$*" >&2 || true; }
die() { say "error: $*"; exit 1; }

need() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is required but not on PATH"
  done
}

# with_install_lock CMD...: runs CMD holding .local/install.lock, so two
# scripts installing at once do not trip over each other.
with_install_lock() {
  mkdir -p "$HOOKS_LOCAL"
  (
    flock -w 600 9 || die "timed out waiting for $HOOKS_LOCAL/install.lock"
    "$@"
  ) 9>"$HOOKS_LOCAL/install.lock"
}

# go_tool_install NAME MODULE_PATH@VERSION BINARY: installs a Go command into
# .local/tools/NAME-VERSION/ (once) and prints the binary's path.
go_tool_install() {
  local name="$1" pkg="$2" bin="$3"
  local dir="$HOOKS_TOOLS/$name-${pkg##*@}"
  if [ ! -x "$dir/$bin" ]; then
    need go
    say "installing $pkg"
    mkdir -p "$dir.tmp"
    # GOFLAGS from the caller (for example -mod=vendor) must not leak into an install of a foreign module.
    GOBIN="$dir.tmp" GOFLAGS='' go install "$pkg" >&2 || { rm -rf "$dir.tmp"; die "go install $pkg failed"; }
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  printf '%s\n' "$dir/$bin"
}
