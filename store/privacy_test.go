package store_test

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

// TestPrivacyAtRest writes 10,000 events with known pass IDs, household
// IDs and holder texts, with acknowledgements deleting some on the way (so
// freed pages are in the file too), and searches the raw bytes of every
// file the store left (event log, trust cache, sidecars) for every 8-byte
// window of each of them. None may appear.
//
// The appends are unsynced to keep the test fast; fsync does not change
// what bytes are written.
func TestPrivacyAtRest(t *testing.T) {
	const n = 10000
	dir := t.TempDir()
	priv, hub := testHub(t)
	l := openLog(t, filepath.Join(dir, "events.db"), store.LogOptions{Hub: priv.Public(), SegmentSize: 64})
	store.NoSyncForTest(l, true)
	tr, err := store.OpenTrust(filepath.Join(dir, "trust.db"), store.TrustOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()

	random := func(n int) []byte {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	households := make([][]byte, 1000)
	for i := range households {
		households[i] = random(16)
	}
	secrets := append([][]byte(nil), households...)
	for i := range n {
		pass := random(16)
		holder := fmt.Sprintf("Q%05dZ unit %03d", i, i%400)
		secrets = append(secrets, pass, []byte(holder))
		ev := &scanner.Event{
			Wall:      t0.Add(time.Duration(i) * 10 * time.Second).UnixNano(),
			Site:      "east",
			Direction: scanner.Direction(i % 2),
			Allow:     i%9 != 0,
			Reason:    scanner.ReasonOK,
			Issuer:    "district-7",
			PassID:    pass,
			Household: households[i%len(households)],
			Holder:    holder,
		}
		seq, err := l.Append(ev)
		if err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 {
			if err := l.Ack(seq - 500); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The trust cache holds documents (made up here) alongside.
	for _, kind := range []string{store.KindKeySet, store.KindStatus, store.KindPolicy} {
		if err := tr.PutDoc(kind, "district-7", random(2000)); err != nil {
			t.Fatal(err)
		}
	}
	// The events are all still readable by the hub.
	p, err := l.Pending(0, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 500 {
		t.Fatalf("%d pending, want 500", len(p))
	}
	for _, s := range p[:20] {
		if _, err := hub.Open(s.Header, s.Seq, s.Box); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}

	// Every 8-byte window of every secret.
	windows := map[uint64]int{}
	for i, s := range secrets {
		for j := 0; j+8 <= len(s); j++ {
			windows[binary.LittleEndian.Uint64(s[j:])] = i
		}
	}
	hits := func(b []byte) (found []int) {
		for off := 0; off+8 <= len(b); off++ {
			if i, ok := windows[binary.LittleEndian.Uint64(b[off:])]; ok {
				found = append(found, i)
			}
		}
		return found
	}
	// Control: the search finds an event written in the clear.
	inClear := &scanner.Event{PassID: secrets[len(households)], Household: households[0], Holder: string(secrets[len(households)+1])}
	plain, err := inClear.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got := hits(plain); len(got) < 3 {
		t.Fatalf("control: the search found %d windows of an event in the clear", len(got))
	}

	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	searched := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		searched += len(b)
		for _, i := range hits(b) {
			t.Errorf("%s holds 8 bytes of secret %d (%q)", f.Name(), i, secrets[i])
		}
	}
	t.Logf("searched %d files, %d bytes, for %d secrets", len(files), searched, len(secrets))
	if len(files) < 4 {
		t.Fatalf("only %d files in the store's directory", len(files))
	}
}
