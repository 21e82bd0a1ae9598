# shellcheck shell=bash
# The helpers every .ci script shares: `source "$(dirname "$0")/lib.sh"` first.
# It sets strict mode, moves to the clone's root and starts the script's clock.
#
#   ROOT, PYTHON, CACHE   the clone; the host interpreter ($PYTHON, default
#                         python3); the cache folder ($BINSUM_CI_CACHE, default
#                         /var/cache/binsum-ci, outside the clone)
#   CI_NAME               the banner's label (default: the script's name)
#   step TEXT...          a banner: label, time since the script started, TEXT
#   fail TEXT...          TEXT on stderr, exit 1
#   only PATH...          the one path a glob matched, or fail
#   new_venv DIR          a fresh virtual environment with a current pip
#                         (>= 25.1: pip install --group, pyproject.toml's
#                         dependency groups)
#   new_work_dir          a temporary folder ($work), removed at exit
#   debian_packages PKG...  install those not installed (apt, as root); with
#                         CI_LIST_PACKAGES=1 print them and exit instead (how
#                         .ci/run learns a step's packages: each script names
#                         its own)
#   cache_lock NAME       hold $CACHE/.lock-NAME until the script exits
#   cache_key LINE...     12 hex digits naming a cache entry by its recipe
#   cache_fresh DIR RECIPE   DIR/.recipe holds RECIPE (an entry built from it)
#   cache_commit DIR [RECIPE]  move DIR.partial, built aside, to DIR in one
#                         step (an interrupted build never looks cached)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
CACHE=${BINSUM_CI_CACHE:-/var/cache/binsum-ci}
CI_NAME=${CI_NAME:-$(basename "$0")}
export PIP_DISABLE_PIP_VERSION_CHECK=1
SECONDS=0

step() { printf '\n== %s: [%dm%02ds] %s\n' "$CI_NAME" $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

fail() {
	echo "$CI_NAME: $*" >&2
	exit 1
}

only() {
	if [ $# -ne 1 ] || [ ! -e "$1" ]; then fail "expected exactly one file, got: $*"; fi
	echo "$1"
}

new_venv() {
	"$PYTHON" -m venv "$1"
	"$1/bin/python" -m pip install -q -U "pip>=25.1"
}

new_work_dir() {
	work=$(mktemp -d)
	# shellcheck disable=SC2064 # expand $work now
	trap "rm -rf '$work'" EXIT
}

debian_packages() {
	if [ "${CI_LIST_PACKAGES:-}" = 1 ]; then
		echo "$*"
		exit 0
	fi
	local missing=() p
	for p; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	[ "$(id -u)" = 0 ] || fail "needs the Debian packages ${missing[*]}: install them, or run as root"
	step "apt-get install ${missing[*]}"
	# Another apt may be running (other steps, other users): wait for its lock.
	# .ci/run updates the package lists once for all its steps.
	if [ ! -e "${CI_APT_UPDATED:-/nonexistent}" ]; then
		apt-get -o DPkg::Lock::Timeout=600 update -q
		[ -z "${CI_APT_UPDATED:-}" ] || touch "$CI_APT_UPDATED"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
		"${missing[@]}"
}

cache_lock() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock-$1"
	flock 9
}

cache_key() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }

cache_fresh() { [ -f "$1/.recipe" ] && [ "$(cat "$1/.recipe")" = "$2" ]; }

cache_commit() {
	[ $# -lt 2 ] || echo "$2" >"$1.partial/.recipe"
	rm -rf "$1"
	mv "$1.partial" "$1"
}
