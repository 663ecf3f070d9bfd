#!/usr/bin/env bash
# A `go test -exec` program that runs ARM test binaries under qemu-user,
# which needs no binfmt_misc registration:
#
#	GOARCH=arm64 go test -exec "scripts/qemu-exec.sh arm64" ./...
#	GOARCH=arm GOARM=7 go test -exec "scripts/qemu-exec.sh arm" ./...
#
# (go test runs it in each package's folder, so give it as an absolute path.)
# It first checks the ELF header of the binary, so that a binary built for
# the host cannot pass unnoticed, and appends a line per binary to the file
# named by CHECKPOINT_QEMU_LOG, if set, for scripts/test.sh to count.
# The emulated CPU is a Pi-class core: QEMU_CPU_ARM64 (default cortex-a53)
# or QEMU_CPU_ARM (default cortex-a7) overrides it.
set -euo pipefail

arch=${1:?usage: qemu-exec.sh arm64|arm BINARY [ARGS...]}
shift
bin=${1:?usage: qemu-exec.sh arm64|arm BINARY [ARGS...]}

case $arch in
arm64) qemu=qemu-aarch64-static class=02 machine=b7 cpu=${QEMU_CPU_ARM64:-cortex-a53} ;;
arm) qemu=qemu-arm-static class=01 machine=28 cpu=${QEMU_CPU_ARM:-cortex-a7} ;;
*)
	echo "qemu-exec: unknown arch $arch (want arm64 or arm)" >&2
	exit 2
	;;
esac

# ELF identification: bytes 0-3 magic, 4 class (01 32-bit, 02 64-bit),
# 5 data (01 little-endian); bytes 18-19 e_machine (b7 00 AArch64, 28 00 ARM).
read -r -a b <<<"$(od -An -v -tx1 -N20 "$bin" | tr -s "\n" " ")"
got="${b[0]:-}${b[1]:-}${b[2]:-}${b[3]:-} class=${b[4]:-} data=${b[5]:-} machine=${b[18]:-}${b[19]:-}"
if [ "$got" != "7f454c46 class=$class data=01 machine=${machine}00" ]; then
	echo "qemu-exec: $bin is not a little-endian $arch ELF binary ($got)" >&2
	exit 1
fi

if [ -n "${CHECKPOINT_QEMU_LOG:-}" ]; then
	printf '%s %s %s\n' "$arch" "$qemu" "$PWD" >>"$CHECKPOINT_QEMU_LOG"
fi
exec "$qemu" -cpu "$cpu" "$@"
