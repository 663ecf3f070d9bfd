//go:build !linux

package main

import (
	"errors"
	"net"
)

// peerUID is known on Linux only; elsewhere the control socket refuses
// everyone (its folder's permissions are all that would guard it).
func peerUID(net.Conn) (int, error) {
	return 0, errors.New("peer credentials are read on Linux only")
}
