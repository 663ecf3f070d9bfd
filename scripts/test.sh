#!/usr/bin/env bash
# The full test command (README.md); CI runs exactly this (.ci/run).
#
#	scripts/test.sh            everything, as CI does
#	QUICK=1 scripts/test.sh    skip the fuzz and qemu steps, for fast local loops
#	scripts/test.sh vet fuzz   only the steps named (names as below)
#
# Steps, in order, stopping at the first failure:
#	deps          scripts/install-deps.sh (apt only when something is missing)
#	gofmt         gofmt -l over the tracked .go files prints nothing
#	vet           go vet ./...
#	staticcheck   staticcheck ./...
#	test-race     go test -race -count=1 -p $TEST_P ./...
#	test-native   the tests -race and -short make smaller, in full (1,000
#	              passes scan, the camera-like frames read, every change of
#	              one character, a hook's Act racing its Close)
#	fuzz          every native fuzz target, one at a time, for a bounded time
#	cross-build   CGO_ENABLED=0 builds for linux/arm64 and linux/arm GOARM=7;
#	              the cmd/* binaries are checked to be static ARM executables
#	qemu-arm64    go test ./... as arm64 binaries under qemu-aarch64-static
#	qemu-arm      go test ./... as arm GOARM=7 binaries under qemu-arm-static
# It ends with the time of each step and a line "N passed, M failed".
#
# Environment:
#	QUICK=1          skip the fuzz and qemu steps
#	FUZZTIME=D       -fuzztime for each fuzz target (e.g. 30s or 5000x); by
#	                 default the targets share FUZZ_BUDGET, 1s to 10s each
#	FUZZ_BUDGET=S    wall time of the fuzz step when FUZZTIME is unset, builds
#	                 included (100); it runs over only when each target is
#	                 down to 1s
#	QEMU_SHORT=0     run the tests under qemu without -short
#	TEST_P=N         test binaries go test runs at once in the test-race
#	                 step (4): they wait on fsync, timers and child
#	                 processes more than they compute, and at go test's
#	                 default (one per core) a 2-core machine is a third idle
# The tests see CHECKPOINT_QEMU=1 (and CHECKPOINT_QEMU_EXEC, the qemu binary)
# when they run under qemu-user: a test that spawns child processes, or is
# too slow under emulation, can adapt or skip.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh
root=$PWD

QUICK=${QUICK:-0}
FUZZ_BUDGET=${FUZZ_BUDGET:-100}
QEMU_SHORT=${QEMU_SHORT:-1}
TEST_P=${TEST_P:-4}

# Cross builds and VCS stamping: stamping needs a commit to stamp.
vcsflag=()
git rev-parse -q --verify HEAD >/dev/null 2>&1 || vcsflag=(-buildvcs=false)

# --- steps (each runs in a subshell with set -e) ------------------------------

step_deps() {
	bash scripts/install-deps.sh
	go version
}

step_gofmt() {
	local files=() f unformatted=()
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# Tracked files, and new ones not yet added (but not ignored ones).
		while IFS= read -r -d '' f; do
			[ -f "$f" ] && files+=("$f")
		done < <(git ls-files -z --cached --others --exclude-standard -- '*.go')
	else
		while IFS= read -r -d '' f; do files+=("$f"); done \
			< <(find . -name '*.go' -not -path './.git/*' -print0)
	fi
	if [ ${#files[@]} -eq 0 ]; then
		echo "no .go files"
		return 0
	fi
	mapfile -t unformatted < <(gofmt -l -- "${files[@]}")
	wait $! # gofmt's exit status: non-zero on a syntax error
	if [ ${#unformatted[@]} -gt 0 ]; then
		echo "not formatted with gofmt:"
		printf '  %s\n' "${unformatted[@]}"
		echo "hint: gofmt -w ${unformatted[*]}"
		return 1
	fi
	echo "${#files[@]} files formatted"
}

step_vet() {
	go vet ./...
}

step_staticcheck() {
	staticcheck --version
	staticcheck ./...
}

step_test_race() {
	go test -race -count=1 -p "$TEST_P" ./...
}

# The tests that the race detector (and -short, under qemu) makes run
# smaller or skip, run natively in full: every generated pass must scan
# (1,000 of them), the camera-like frames must read (TestCamtest and
# TestRegridDefocusedAlignment skip under -race, qemu and -short, so
# nowhere else in CI), no change of one
# character of a pass may give an allow (every character, not every
# seventh), and a hook's Act racing its Close (2,000 rounds, not 200).
# Each must have passed, not skipped.
native_tests=(
	"./cmd/scanner TestIssuedPassesAlwaysScan"
	"./scanner/qr TestCamtest"
	"./scanner/qr TestRegridDefocusedAlignment"
	"./scanner TestSingleCharacterChangeNeverAllows"
	"./output TestHookActRacingClose"
)

step_test_native() {
	local t pkgs=() names=() run out rc=0
	for t in "${native_tests[@]}"; do
		pkgs+=("${t%% *}")
		names+=("${t#* }")
	done
	run=$(IFS='|' && echo "${names[*]}")
	out=$(go test -count=1 -run "^($run)\$" -v "${pkgs[@]}" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "$out"
		return "$rc"
	fi
	grep -E '^(---|ok|PASS)|passes decoded|camtest_test.go' <<<"$out" || true
	for t in "${names[@]}"; do
		grep -q -- "^--- PASS: $t " <<<"$out" || {
			echo "$t did not run (skipped, or renamed?)"
			return 1
		}
	done
}

step_fuzz() {
	local out line pending=() pkgs=() names=() n i left per fuzztime name corpus before start=$SECONDS
	# Not local: the EXIT trap of the step's subshell runs after we return.
	fuzz_log=$(mktemp)
	trap 'rm -f "$fuzz_log"' EXIT
	# One `go test -list` over all packages: each package's names are
	# followed by its "ok <package>" line.
	if ! out=$(go test -list '^Fuzz' ./... 2>&1); then
		echo "$out"
		return 1
	fi
	while IFS= read -r line; do
		if [[ $line =~ ^Fuzz[[:alnum:]_]*$ ]]; then
			pending+=("$line")
		elif [[ $line =~ ^ok[[:space:]]+([^[:space:]]+) ]]; then
			for name in "${pending[@]}"; do
				pkgs+=("${BASH_REMATCH[1]}")
				names+=("$name")
			done
			pending=()
		fi
	done <<<"$out"
	n=${#names[@]}
	if [ "$n" -eq 0 ]; then
		echo "no fuzz targets found"
		return 0
	fi
	if [ -n "${FUZZTIME:-}" ]; then
		echo "$n fuzz targets, -fuzztime $FUZZTIME each"
	else
		echo "$n fuzz targets sharing ${FUZZ_BUDGET}s (builds included), 1s to 10s each"
	fi
	for ((i = 0; i < n; i++)); do
		if [ -n "${FUZZTIME:-}" ]; then
			fuzztime=$FUZZTIME
		else
			# What is left of the budget, shared among the targets left: the
			# time spent building fuzz binaries comes out of the budget.
			left=$((FUZZ_BUDGET - (SECONDS - start)))
			per=$((left / (n - i)))
			((per > 10)) && per=10
			((per < 1)) && per=1
			fuzztime=${per}s
		fi
		# New inputs are minimised for at most 1s (the default 60s would
		# spend a short budget minimising instead of fuzzing).
		echo "--> go test -run '^\$' -fuzz '^${names[i]}\$' -fuzztime $fuzztime -fuzzminimizetime 1s ${pkgs[i]}"
		corpus="$(go list -f '{{.Dir}}' "${pkgs[i]}")/testdata/fuzz/${names[i]}"
		before=$(ls "$corpus" 2>/dev/null | wc -l || true)
		if ! go test -run '^$' -fuzz "^${names[i]}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s "${pkgs[i]}" 2>&1 | tee "$fuzz_log"; then
			# Go 1.26's fuzz coordinator can fail a target with a bare
			# "context deadline exceeded" at the end of -fuzztime, having
			# found nothing (go.dev/issue/75804, fixed in Go 1.27). That,
			# and only when no failing input was written and the seed
			# corpus still passes, is not a finding.
			if grep -qx '[[:space:]]*context deadline exceeded' "$fuzz_log" &&
				[ "$(ls "$corpus" 2>/dev/null | wc -l || true)" -eq "$before" ] &&
				go test -count=1 -run "^${names[i]}\$" "${pkgs[i]}"; then
				echo "note: ${names[i]} hit the fuzz coordinator's deadline race (go.dev/issue/75804) and wrote no input; not a finding"
				continue
			fi
			echo "fuzz target ${names[i]} in ${pkgs[i]} failed; go test wrote the failing"
			echo "input under the package's testdata/fuzz/${names[i]}/ (add it to the repo as a regression case)"
			return 1
		fi
	done
}

# main_packages prints the import paths of the commands under cmd/.
main_packages() {
	[ -d cmd ] || return 0
	go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./cmd/... 2> >(grep -v 'matched no packages' >&2)
}

step_cross_build() {
	local mains target arch goarm bins
	# Not local: the EXIT trap of the step's subshell runs after we return.
	cross_tmp=$(mktemp -d)
	trap 'rm -rf "$cross_tmp"' EXIT
	local tmp=$cross_tmp
	mapfile -t mains < <(main_packages)
	for target in arm64 arm/7; do
		arch=${target%/*} goarm=
		[ "$arch" = arm ] && goarm=${target#*/}
		echo "--> CGO_ENABLED=0 GOOS=linux GOARCH=$arch${goarm:+ GOARM=$goarm} go build ./..."
		env CGO_ENABLED=0 GOOS=linux GOARCH="$arch" GOARM="$goarm" go build "${vcsflag[@]}" ./...
		if [ ${#mains[@]} -eq 0 ]; then
			echo "no commands under cmd/ yet: no binaries to check"
			continue
		fi
		mkdir -p "$tmp/$arch"
		echo "--> go build -o <tmp>/$arch/ ${mains[*]}"
		env CGO_ENABLED=0 GOOS=linux GOARCH="$arch" GOARM="$goarm" \
			go build "${vcsflag[@]}" -o "$tmp/$arch/" "${mains[@]}"
		bins=("$tmp/$arch"/*)
		[ -e "${bins[0]}" ] || { echo "go build wrote no binaries"; return 1; }
		(cd "$tmp/$arch" && env -u GOARCH -u GOOS -u GOARM \
			go run "$root/scripts/elfcheck.go" -arch "$arch" ${goarm:+-goarm "$goarm"} -- *)
	done
}

# qemu_test ARCH QEMU [GOARM]: the package tests as ARM binaries under qemu-user.
qemu_test() {
	local arch=$1 qemu=$2 goarm=${3:-} want got short=()
	command -v "$qemu" >/dev/null || {
		echo "$qemu not found; hint: scripts/install-deps.sh (Debian package qemu-user-static)"
		return 1
	}
	[ "$QEMU_SHORT" = 0 ] || short=(-short)
	export CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOARM=$goarm
	[ -n "$goarm" ] || unset GOARM
	export CHECKPOINT_QEMU=1 CHECKPOINT_QEMU_EXEC=$qemu
	echo "go env: GOOS=$(go env GOOS) GOARCH=$(go env GOARCH)${goarm:+ GOARM=$(go env GOARM)} CGO_ENABLED=$(go env CGO_ENABLED); $("$qemu" --version | head -n1)"
	# Not local: the EXIT trap of the step's subshell runs after we return.
	qemu_log=$(mktemp)
	trap 'rm -f "$qemu_log"' EXIT
	export CHECKPOINT_QEMU_LOG=$qemu_log
	echo "--> CHECKPOINT_QEMU=1 go test -count=1 ${short[*]} -exec 'scripts/qemu-exec.sh $arch' ./..."
	go test -count=1 "${short[@]}" -exec "'$root/scripts/qemu-exec.sh' $arch" ./...
	# Every package with tests must have run as an ARM binary under qemu.
	want=$(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./... | grep -c . || true)
	got=$(grep -c . "$qemu_log" || true)
	echo "ran $got $arch test binaries under $qemu ($want packages have tests)"
	[ "$got" -eq "$want" ]
}

step_qemu_arm64() { qemu_test arm64 qemu-aarch64-static; }
step_qemu_arm() { qemu_test arm qemu-arm-static 7; }

# --- driver -------------------------------------------------------------------

# name  function  quick(1 = runs under QUICK=1)  description
STEPS=(
	"deps         step_deps         1 scripts/install-deps.sh"
	"gofmt        step_gofmt        1 gofmt -l (tracked .go files)"
	"vet          step_vet          1 go vet ./..."
	"staticcheck  step_staticcheck  1 staticcheck ./..."
	"test-race    step_test_race    1 go test -race -count=1 -p $TEST_P ./..."
	"test-native  step_test_native  1 go test the slow tests without -race, in full (1,000 passes scan, camtest, ...)"
	"fuzz         step_fuzz         0 go test -fuzz, each target in turn"
	"cross-build  step_cross_build  1 CGO_ENABLED=0 go build for linux/arm64 and linux/arm GOARM=7"
	"qemu-arm64   step_qemu_arm64   0 GOARCH=arm64 go test -exec qemu-aarch64-static ./..."
	"qemu-arm     step_qemu_arm     0 GOARCH=arm GOARM=7 go test -exec qemu-arm-static ./..."
)

now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo "$t"; }
fmt_us() { printf '%d.%01ds' $(($1 / 1000000)) $((($1 % 1000000) / 100000)); }

# Steps named on the command line: run only those.
only=" $* "
all_steps=" "
for s in "${STEPS[@]}"; do all_steps+="${s%% *} "; done
for arg in "$@"; do
	if [[ $all_steps != *" $arg "* ]]; then
		echo "test.sh: error: no step named \"$arg\"" >&2
		echo "test.sh: hint: the steps are:$all_steps" >&2
		exit 2
	fi
done

passed=0 failed=0 skipped=0
report=()
total_start=$(now_us)
for i in "${!STEPS[@]}"; do
	read -r name fn quick desc <<<"${STEPS[i]}"
	label="[$((i + 1))/${#STEPS[@]}] $name"
	if [ $# -gt 0 ] && [[ $only != *" $name "* ]]; then
		continue
	fi
	if [ "$failed" -gt 0 ]; then
		report+=("$(printf '%-16s %-8s %s' "$name" "not run" "")")
		skipped=$((skipped + 1))
		continue
	fi
	if [ "$QUICK" = 1 ] && [ "$quick" = 0 ]; then
		echo "=== $label: skipped (QUICK=1)"
		report+=("$(printf '%-16s %-8s %s' "$name" "skipped" "")")
		skipped=$((skipped + 1))
		continue
	fi
	echo
	echo "================================================================"
	echo "=== $label: $desc"
	echo "================================================================"
	start=$(now_us)
	(
		set -euo pipefail
		"$fn"
	)
	rc=$?
	took=$(fmt_us $(($(now_us) - start)))
	if [ "$rc" -eq 0 ]; then
		echo "=== $label: PASS ($took)"
		report+=("$(printf '%-16s %-8s %s' "$name" "PASS" "$took")")
		passed=$((passed + 1))
	else
		echo "=== $label: FAIL (exit $rc, $took)"
		report+=("$(printf '%-16s %-8s %s' "$name" "FAIL" "$took")")
		failed=$((failed + 1))
	fi
done

echo
echo "================================================================"
echo "=== summary (total $(fmt_us $(($(now_us) - total_start))))"
printf '  %s\n' "${report[@]}"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
