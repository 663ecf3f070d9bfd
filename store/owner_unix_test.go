//go:build unix

package store_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/checkpointgate/checkpoint/store"
)

// Root opening the stores in a folder another user owns (a command run
// with sudo on a gate's data folder while the gate is stopped) leaves
// every file it made to that user, so the gate can open them again.
func TestRootLeavesFilesToTheFoldersOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	const user = 65534
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, user, user); err != nil {
		t.Fatal(err)
	}
	priv, _ := testHub(t)
	l := openLog(t, filepath.Join(dir, "events.db"), store.LogOptions{Hub: priv.Public()})
	l.Close()
	tr := openTrust(t, filepath.Join(dir, "trust.db"), store.TrustOptions{})
	tr.Close()
	if err := store.WriteFileAtomic(filepath.Join(dir, "switch"), []byte("on\n")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) < 5 {
		t.Fatalf("only %d files made", len(entries))
	}
	for _, e := range entries {
		fi, err := os.Lstat(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != user || st.Gid != user {
			t.Errorf("%s belongs to %d:%d, not the folder's owner", e.Name(), st.Uid, st.Gid)
		}
	}
}
