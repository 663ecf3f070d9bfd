#!/usr/bin/env bash
# The quick start of README.md: build the scanner, make an issuer key, issue a
# pass as text and PNG, read the PNG back and verify it, then show a forged
# copy and an expired read being denied. Everything stays in a temporary
# folder (or in $1, if given).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
work=${1:-$(mktemp -d)}
mkdir -p "$work"
go build -o "$work/scanner" ./cmd/scanner
s="$work/scanner"

echo "== keygen"
"$s" keygen -f -o "$work/issuer"
echo "== issue"
pass=$("$s" issue -key "$work/issuer.key" -holder "L.M. 3-402" -site main -png "$work/pass.png")
echo "$pass"
echo "== decode $work/pass.png"
"$s" decode "$work/pass.png"
echo "== verify the PNG (exit 0: allowed)"
"$s" verify -pub "$work/issuer.pub" "$work/pass.png"
echo "== verify a copy with one character changed (exit 1: denied)"
forged="${pass:0:40}$([ "${pass:40:1}" = 0 ] && echo 1 || echo 0)${pass:41}"
# Exactly 1 (denied): 2 is an error, which must not pass for a denial.
denied() {
	local rc=0
	"$@" || rc=$?
	[ "$rc" -eq 1 ] || { echo "quickstart: $2 exited $rc, want 1 (denied)" >&2; exit 1; }
}
denied "$s" verify -pub "$work/issuer.pub" -text "$forged"
echo "== verify two days later (exit 1: expired)"
later=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
denied "$s" verify -pub "$work/issuer.pub" -at "$later" "$work/pass.png"
echo "== done; files are in $work"
