# shellcheck shell=bash
# Sourced by the scripts in this folder (and by .ci/run): puts the Go
# toolchain and the tools that `go install` writes on PATH. Go is expected at
# /usr/local/go (it may not be on PATH, e.g. in CI).

if [ -z "${HOME:-}" ]; then
	HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
	export HOME
fi

case ":$PATH:" in
*:/usr/local/go/bin:*) ;;
*) [ -d /usr/local/go/bin ] && PATH="/usr/local/go/bin:$PATH" ;;
esac

if command -v go >/dev/null 2>&1; then
	# Where `go install` puts binaries: GOBIN, else the first GOPATH entry's bin.
	CHECKPOINT_GOBIN=$(go env GOBIN)
	if [ -z "$CHECKPOINT_GOBIN" ]; then
		CHECKPOINT_GOBIN="$(go env GOPATH | cut -d: -f1)/bin"
	fi
	case ":$PATH:" in
	*:"$CHECKPOINT_GOBIN":*) ;;
	*) PATH="$CHECKPOINT_GOBIN:$PATH" ;;
	esac
fi
export PATH
