//go:build unix

package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/checkpointgate/checkpoint/store"
)

// Root opening the stores in a folder another user owns (a command run
// with sudo on the data folder of a gate that runs as a service user) is
// refused, and leaves nothing behind: no file the gate could not open, no
// write through a link that user planted.
func TestRootRefusesAnotherUsersFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	priv, _ := testHub(t)
	if _, err := store.OpenLog(filepath.Join(dir, "events.db"), store.LogOptions{Hub: priv.Public(), Logger: quiet}); !errors.Is(err, store.ErrForeignFolder) {
		t.Errorf("OpenLog: %v, want ErrForeignFolder", err)
	}
	if _, err := store.OpenTrust(filepath.Join(dir, "trust.db"), store.TrustOptions{Logger: quiet}); !errors.Is(err, store.ErrForeignFolder) {
		t.Errorf("OpenTrust: %v, want ErrForeignFolder", err)
	}
	if err := store.WriteFileAtomic(filepath.Join(dir, "emergency"), []byte("on\n")); !errors.Is(err, store.ErrForeignFolder) {
		t.Errorf("WriteFileAtomic: %v, want ErrForeignFolder", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left in the folder", len(entries))
	}
}

// WriteFileAtomic writes a new temp file: a link at its name is removed,
// not written through.
func TestWriteFileAtomicNotThroughALink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep\n"), 0o600)
	if err := os.Symlink(victim, filepath.Join(dir, "switch.tmp")); err != nil {
		t.Skip(err)
	}
	if err := store.WriteFileAtomic(filepath.Join(dir, "switch"), []byte("on\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep\n" {
		t.Errorf("the link's target now holds %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "switch")); string(b) != "on\n" {
		t.Errorf("switch holds %q", b)
	}
}
