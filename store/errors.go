package store

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"

	bolterrors "go.etcd.io/bbolt/errors"
)

// Errors returned by the store. Test for them with errors.Is: they are
// usually wrapped with context.
var (
	// ErrFull is returned when a write does not fit: the file reached its
	// MaxSize, or the file system is full (ENOSPC, EDQUOT) or refuses to
	// grow the file (EFBIG, as under RLIMIT_FSIZE). Nothing already stored
	// is harmed; writes succeed again once space is freed (Ack, retention,
	// or more room on the file system).
	ErrFull = errors.New("store: full")

	// ErrNotFound is returned by Trust.Doc for a document it does not hold.
	ErrNotFound = errors.New("store: not found")

	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("store: closed")

	// ErrSchema is returned by OpenLog for a file written by a newer build
	// (a schema version this build does not know). The file is left
	// untouched. (OpenTrust moves such a trust cache aside and starts an
	// empty one: its documents can be fetched again.)
	ErrSchema = errors.New("store: unknown schema version")

	// ErrLocked is returned by OpenLog and OpenTrust when another process
	// holds the file open and the lock timeout passed.
	ErrLocked = errors.New("store: file is in use by another process")

	// ErrForeignFolder is returned by OpenLog, OpenTrust and
	// WriteFileAtomic run as root on a folder another user owns (a gate's
	// data folder, when the gate runs as a service user): root would leave
	// files there that user cannot open, and would follow links that user
	// planted. Run as the folder's owner instead.
	ErrForeignFolder = errors.New("store: the folder belongs to another user")
)

// isFull reports whether err says that a write did not fit.
func isFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrFull) || errors.Is(err, bolterrors.ErrMaxSizeReached) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	// bbolt formats the error of growing the file with %s, losing the errno.
	msg := err.Error()
	for _, e := range []syscall.Errno{syscall.ENOSPC, syscall.EFBIG, syscall.EDQUOT} {
		if strings.Contains(msg, e.Error()) {
			return true
		}
	}
	return false
}

// isEnvironmental reports whether an error from bolt.Open is about the
// environment (permissions, a lock held by another process, a missing
// directory, memory) rather than about the file's content. Only errors
// about the content may lead to a file being moved aside.
func isEnvironmental(err error) bool {
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.Is(err, bolterrors.ErrTimeout) || errors.As(err, &pe) || errors.As(err, &errno)
}

// mapClosed turns bbolt's not-open error into ErrClosed.
func mapClosed(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}
