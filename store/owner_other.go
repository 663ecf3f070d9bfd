//go:build !unix

package store

import "os"

// takeFolderOwner does nothing where files have no Unix owner.
func takeFolderOwner(*os.File) error { return nil }
