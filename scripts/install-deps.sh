#!/usr/bin/env bash
# Installs what scripts/test.sh needs, on Debian 12 (bookworm) with Go at
# /usr/local/go. Idempotent: it checks first and only calls apt-get (after an
# `apt-get update`) when something is missing, and only reinstalls a Go tool
# when the installed version differs. Needs root (or sudo) only for apt.
#
# To add a dependency, add a line to APT_NEEDS (what to look for, and the
# Debian packages that provide it) or to GO_TOOLS (binary name, then the
# `go install` argument with an exact version).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh

# what-must-exist (a command on PATH, or an absolute path)   debian-packages...
APT_NEEDS='
git                                  git
/etc/ssl/certs/ca-certificates.crt   ca-certificates
cc                                   gcc
/usr/include/stdlib.h                libc6-dev
qemu-aarch64-static                  qemu-user-static
qemu-arm-static                      qemu-user-static
'

# binary        go-install-argument (pin the version)
GO_TOOLS='
staticcheck     honnef.co/go/tools/cmd/staticcheck@v0.8.2
'

log() { printf 'install-deps: %s\n' "$*"; }
die() {
	printf 'install-deps: error: %s\n' "$1" >&2
	[ -n "${2:-}" ] && printf 'install-deps: hint: %s\n' "$2" >&2
	exit 1
}

have() {
	case $1 in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

# missing_packages prints the Debian packages whose check fails, one a line.
missing_packages() {
	local check pkgs
	while read -r check pkgs; do
		[ -n "$check" ] || continue
		# shellcheck disable=SC2086 # one word per package
		have "$check" || printf '%s\n' $pkgs
	done <<<"$APT_NEEDS" | sort -u
}

command -v go >/dev/null 2>&1 ||
	die "go not found on PATH or in /usr/local/go/bin" \
		"install Go 1.26 from the Go release archive into /usr/local/go"

# --- Debian packages ---------------------------------------------------------
mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -eq 0 ]; then
	log "Debian packages: all present, skipping apt"
else
	log "Debian packages missing: ${missing[*]}"
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
			die "need root to install ${missing[*]}" "run as root, or: apt-get install ${missing[*]}"
		sudo=(sudo)
	fi
	apt_opts=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0)
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update </dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" \
		install --no-install-recommends "${missing[@]}" </dev/null
	mapfile -t still < <(missing_packages)
	[ ${#still[@]} -eq 0 ] || die "still missing after apt-get install: ${still[*]}"
fi

# --- Go tools ----------------------------------------------------------------
goversion=$(go env GOVERSION)
while read -r name arg; do
	[ -n "$name" ] || continue
	pkg=${arg%@*} version=${arg##*@}
	bin="$CHECKPOINT_GOBIN/$name"
	if [ -x "$bin" ]; then
		# Up to date when built from the pinned module version by this Go.
		info=$(go version -m "$bin" 2>/dev/null || true)
		got_go=$(awk 'NR==1 {print $2}' <<<"$info")
		got_path=$(awk '$1=="path" {print $2}' <<<"$info")
		got_version=$(awk '$1=="mod" {print $3}' <<<"$info")
		if [ "$got_path" = "$pkg" ] && [ "$got_version" = "$version" ] && [ "$got_go" = "$goversion" ]; then
			log "$name $version (built with $got_go): present"
			continue
		fi
	fi
	log "go install $arg"
	# Build the tool on its own: no project GOFLAGS, and outside the module.
	(cd / && GOFLAGS='' CGO_ENABLED=0 go install "$arg")
	[ -x "$bin" ] || die "go install $arg did not write $bin"
done <<<"$GO_TOOLS"

# --- Go modules --------------------------------------------------------------
log "go mod download"
go mod download
log "done"
