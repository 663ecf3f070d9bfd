package store_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/store"
)

func openTrust(t testing.TB, path string, opt store.TrustOptions) *store.Trust {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = quiet
	}
	tr, err := store.OpenTrust(path, opt)
	if err != nil {
		t.Fatalf("OpenTrust: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

func TestTrustDocs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trust.db")
	now := t0
	opt := store.TrustOptions{Now: func() time.Time { return now }}
	tr := openTrust(t, path, opt)
	if tr.Recovery() != nil {
		t.Fatal("recovery on a new cache")
	}
	if _, err := tr.Doc(store.KindKeySet, "root"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Doc on an empty cache: %v", err)
	}
	if docs, err := tr.Docs(store.KindStatus); err != nil || len(docs) != 0 {
		t.Fatalf("Docs on an empty cache: %v %v", docs, err)
	}
	put := func(kind, name, raw string) {
		t.Helper()
		if err := tr.PutDoc(kind, name, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	put(store.KindKeySet, "", "keyset v1")
	put(store.KindStatus, "district-7", "status 7 v1")
	now = now.Add(time.Hour)
	put(store.KindStatus, "district-9", "status 9 v1")
	put(store.KindStatus, "district-7", "status 7 v2") // replaces
	put(store.KindPolicy, "north-gate", strings.Repeat("p", 100000))

	if raw, err := tr.Doc(store.KindStatus, "district-7"); err != nil || string(raw) != "status 7 v2" {
		t.Fatalf("Doc = %q, %v", raw, err)
	}
	if raw, err := tr.Doc(store.KindKeySet, ""); err != nil || string(raw) != "keyset v1" {
		t.Fatalf("Doc with an empty name = %q, %v", raw, err)
	}
	docs, err := tr.Docs(store.KindStatus)
	if err != nil || len(docs) != 2 || string(docs["district-9"]) != "status 9 v1" {
		t.Fatalf("Docs = %q, %v", docs, err)
	}
	// Returned bytes are copies.
	docs["district-9"][0] = 'X'
	if raw, _ := tr.Doc(store.KindStatus, "district-9"); raw[0] != 's' {
		t.Fatal("Docs returned the cache's own bytes")
	}

	st, err := tr.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DocStat{
		{Kind: "keyset", Name: "", Size: 9, Written: t0},
		{Kind: "policy", Name: "north-gate", Size: 100000, Written: t0.Add(time.Hour)},
		{Kind: "status", Name: "district-7", Size: 11, Written: t0.Add(time.Hour)},
		{Kind: "status", Name: "district-9", Size: 11, Written: t0.Add(time.Hour)},
	}
	if len(st.Docs) != len(want) {
		t.Fatalf("Stats.Docs = %+v", st.Docs)
	}
	for i, d := range st.Docs {
		if d.Kind != want[i].Kind || d.Name != want[i].Name || d.Size != want[i].Size || !d.Written.Equal(want[i].Written) {
			t.Errorf("Stats.Docs[%d] = %+v, want %+v", i, d, want[i])
		}
	}
	if st.FileSize == 0 || !st.LastCheck.OK || st.Schema != store.TrustSchema || st.Path != path {
		t.Errorf("Stats = %+v", st)
	}

	if err := tr.DeleteDoc(store.KindStatus, "district-9"); err != nil {
		t.Fatal(err)
	}
	if err := tr.DeleteDoc(store.KindStatus, "no-such"); err != nil {
		t.Fatal(err)
	}
	if err := tr.DeleteDoc("no-such-kind", "x"); err != nil {
		t.Fatal(err)
	}

	// Durable across reopen.
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	tr = openTrust(t, path, opt)
	if raw, err := tr.Doc(store.KindPolicy, "north-gate"); err != nil || len(raw) != 100000 {
		t.Fatalf("after reopen: %d bytes, %v", len(raw), err)
	}
	if _, err := tr.Doc(store.KindStatus, "district-9"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted doc after reopen: %v", err)
	}
}

func TestTrustBadArguments(t *testing.T) {
	tr := openTrust(t, filepath.Join(t.TempDir(), "trust.db"), store.TrustOptions{})
	for name, err := range map[string]error{
		"empty kind":  tr.PutDoc("", "x", []byte("d")),
		"long kind":   tr.PutDoc(strings.Repeat("k", store.MaxKindLen+1), "x", []byte("d")),
		"long name":   tr.PutDoc("k", strings.Repeat("n", store.MaxNameLen+1), []byte("d")),
		"empty doc":   tr.PutDoc("k", "x", nil),
		"huge doc":    tr.PutDoc("k", "x", make([]byte, store.MaxDocSize+1)),
		"delete kind": tr.DeleteDoc("", "x"),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTrustFull(t *testing.T) {
	tr := openTrust(t, filepath.Join(t.TempDir(), "trust.db"), store.TrustOptions{MaxSize: 1 << 20})
	doc := bytes.Repeat([]byte{0xAB}, 100000)
	var n int
	for ; ; n++ {
		err := tr.PutDoc(store.KindStatus, string(rune('a'+n)), doc)
		if errors.Is(err, store.ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n > 100 {
			t.Fatal("no ErrFull")
		}
	}
	// What is stored is intact; deleting works on a full cache; then puts
	// fit again.
	docs, err := tr.Docs(store.KindStatus)
	if err != nil || len(docs) != n {
		t.Fatalf("%d docs, %v; want %d", len(docs), err, n)
	}
	for name, d := range docs {
		if !bytes.Equal(d, doc) {
			t.Fatalf("doc %s damaged", name)
		}
	}
	for i := range n / 2 {
		if err := tr.DeleteDoc(store.KindStatus, string(rune('a'+i))); err != nil {
			t.Fatalf("delete on a full cache: %v", err)
		}
	}
	if err := tr.PutDoc(store.KindStatus, "again", doc); err != nil {
		t.Fatalf("put after deleting: %v", err)
	}
}

func TestTrustClosed(t *testing.T) {
	tr := openTrust(t, filepath.Join(t.TempDir(), "trust.db"), store.TrustOptions{})
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	_, errDoc := tr.Doc("k", "n")
	_, errDocs := tr.Docs("k")
	_, errStats := tr.Stats()
	for name, err := range map[string]error{
		"PutDoc":    tr.PutDoc("k", "n", []byte("d")),
		"DeleteDoc": tr.DeleteDoc("k", "n"),
		"Doc":       errDoc,
		"Docs":      errDocs,
		"Stats":     errStats,
		"Close":     tr.Close(),
	} {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}
