//go:build !unix

package store

// lockFolder does nothing where there is no flock: the store's files are
// then for one process at a time.
func lockFolder(string) (func(), bool, error) { return func() {}, true, nil }

// fileHeld reports false where there is no flock.
func fileHeld(string) bool { return false }
