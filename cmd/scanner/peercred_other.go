//go:build !linux

package main

import (
	"errors"
	"net"
	"os"
)

// peerUID is known on Linux only; elsewhere the control socket refuses
// everyone, and clients refuse every socket.
func peerUID(net.Conn) (int, error) {
	return 0, errors.New("peer credentials are read on Linux only")
}

// fileOwner is not read off Linux.
func fileOwner(os.FileInfo) (int, bool) { return 0, false }

// controlSupported: the control socket needs SO_PEERCRED.
func controlSupported() error {
	return errors.New("the control socket needs Linux (SO_PEERCRED)")
}
