#!/bin/sh
# Side-by-side QR decoding benchmark: ZBar, zxing-cpp and scanner/qr over
# the camtest set. Installs what it needs on Debian, then builds and runs.
# Arguments go to the program: -n frames per class, -seed, -fallbacks.
set -eu
cd "$(dirname "$0")"
need=""
for p in libzbar-dev libzxing-dev g++ pkg-config; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update
	$sudo apt-get install -y $need
fi
go build -o bench.bin .
exec ./bench.bin "$@"
