# shellcheck shell=bash
# Shared by the bash scripts in scripts/: repository paths, messages, the
# emulators and pinned tool installs into the git-ignored .local/ folder. Source it; it
# defines functions and variables only.

HOOKS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HOOKS_LOCAL="$HOOKS_ROOT/.local"
HOOKS_TOOLS="$HOOKS_LOCAL/tools"

# The local environment file scripts/dev writes (scripts/devkit/localenv):
# one KEY='value' line per variable, read by every tool, so a second
# terminal reaches the same stack without exporting anything.
HOOKS_ENV_FILE="${HOOKS_ENV_FILE:-$HOOKS_LOCAL/dev.env}"

# local_env NAME [DEFAULT]: NAME's value in the local environment file, or
# DEFAULT when the file or the name is missing. Never fails.
local_env() {
  local v=""
  if [ -f "$HOOKS_ENV_FILE" ]; then
    v="$(sed -n "s/^$1='\(.*\)'\$/\1/p" "$HOOKS_ENV_FILE" | tail -n 1)" || v=""
  fi
  printf '%s\n' "${v:-${2:-}}"
}

# setting NAME DEFAULT: the caller's $NAME when set (that is how ports are
# moved), else the local environment file's (so moved ports stay moved),
# else DEFAULT.
setting() {
  if [ -n "${!1:-}" ]; then printf '%s\n' "${!1}"; else local_env "$1" "$2"; fi
}

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

# stack_up SERVICE...: starts those of the emulators that are not running
# yet, remembers them in HOOKS_STARTED, and exports the SDK's endpoint
# variables for all of them. stack_down stops exactly what stack_up started,
# so an emulator the user had running is left running.
HOOKS_STARTED=()
stack_up() {
  local svc
  for svc in "$@"; do
    "$HOOKS_ROOT/scripts/stack" status "$svc" >/dev/null 2>&1 || HOOKS_STARTED+=("$svc")
  done
  # Recorded before starting: a half-failed start is cleaned up by start
  # itself, and stop is a no-op for what is not running.
  if [ "${#HOOKS_STARTED[@]}" -gt 0 ]; then
    "$HOOKS_ROOT/scripts/stack" start "${HOOKS_STARTED[@]}"
  fi
  eval "$("$HOOKS_ROOT/scripts/stack" env --sdk)"
}
stack_down() {
  [ "${#HOOKS_STARTED[@]}" -eq 0 ] || "$HOOKS_ROOT/scripts/stack" stop "${HOOKS_STARTED[@]}"
}

# RIE_MODULE is the pinned AWS Lambda Runtime Interface Emulator (see
# scripts/README.md). scripts/devkit/rie.Module names the same version (a test
# checks), and installs it into the same folder.
RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d

# rie_install: installs the pinned emulator (once) and prints its path.
rie_install() { CGO_ENABLED=0 with_install_lock go_tool_install aws-lambda-rie "$RIE_MODULE" aws-lambda-rie; }

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
