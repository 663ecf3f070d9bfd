package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/internal/privacytest"
	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/scanner/qr"
	"github.com/checkpointgate/checkpoint/seal"
)

var updateExample = flag.Bool("update-example", false, "make configs/example/ (keys and pass images) anew")

// exampleCases are the images of configs/example/passes and the decisions
// the example config must print for them, in order.
var exampleCases = []struct {
	file   string
	args   []string // issue flags; nil for a hand-made image
	allow  bool
	reason string
}{
	{"01-green-resident.png", []string{"-holder", "L.M. 3-402"}, true, "ok"},
	{"02-yellow-resident.png", []string{"-status", "yellow", "-holder", "C.W. 5-101"}, true, "ok"},
	{"03-red-resident.png", []string{"-status", "red", "-holder", "Z.H. 2-1203"}, true, "ok"},
	{"04-visitor.png", []string{"-class", "visitor", "-holder", "Visitor 7-88"}, true, "ok"},
	{"05-other-site.png", []string{"-site", "south-gate", "-holder", "Q.R. 9-9"}, false, "wrong_site"},
	{"06-expired.png", []string{"-at", "2026-01-01T08:00:00Z", "-valid", "24h", "-holder", "X.Y. 1-1"}, false, "expired"},
	{"07-forged.png", nil, false, "bad_signature"},
	{"08-menu-url.png", nil, false, "malformed"},
}

const exampleDir = "../../configs/example"

// TestExampleConfig runs the example config as the README shows, on a copy
// of the example in a temp folder, and checks each decision.
func TestExampleConfig(t *testing.T) {
	if *updateExample {
		makeExample(t)
	}
	dir := t.TempDir()
	copyTree(t, "../../configs", dir)
	os.RemoveAll(filepath.Join(dir, "example", "data"))
	r := runMain(t, time.Now(), "run", "-config", filepath.Join(dir, "scanner.example.toml"))
	if r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	var got []map[string]any
	s := bufio.NewScanner(strings.NewReader(r.stdout))
	for s.Scan() {
		var v map[string]any
		if err := json.Unmarshal(s.Bytes(), &v); err != nil {
			t.Fatalf("not a JSON line: %q", s.Text())
		}
		got = append(got, v)
	}
	if len(got) != len(exampleCases) {
		t.Fatalf("%d decisions, want %d:\n%s\n%s", len(got), len(exampleCases), r.stdout, r.stderr)
	}
	for i, c := range exampleCases {
		if got[i]["allow"] != c.allow || got[i]["reason"] != c.reason || got[i]["logged"] != true {
			t.Errorf("%s: %v, want allow=%v reason=%s", c.file, got[i], c.allow, c.reason)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "L.M. 3-402") {
		t.Error("holder text printed")
	}

	// Nothing personal of any pass it read, in any form (its ID,
	// household and holder, as text, Base64 or hex), in what it printed
	// (stderr is its log: a journal on the card keeps it) or in any file
	// it left in its data folder.
	secrets := examplePassSecrets(t, filepath.Join(dir, "example"))
	if len(secrets) < 6 {
		t.Fatalf("control: %d personal fields read from the example passes", len(secrets))
	}
	where := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	dataDir := filepath.Join(dir, "example", "data")
	files := 0
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		where[path] = string(b)
		files++
		return err
	})
	if err != nil || files < 2 {
		t.Fatalf("data folder: %d files, %v", files, err)
	}
	for name, text := range where {
		for _, s := range secrets {
			if form, ok := privacytest.Holds(text, s); ok {
				t.Errorf("%s holds %q (as %q)", name, s, form)
			}
		}
	}
}

// examplePassSecrets returns the pass ID, household and holder of each
// example pass signed by the example issuer (decided with its key, at the
// time they were issued for).
func examplePassSecrets(t *testing.T, exampleDir string) [][]byte {
	t.Helper()
	key, err := readPublicKey(filepath.Join(exampleDir, "issuer.pub"))
	if err != nil {
		t.Fatal(err)
	}
	trust := scanner.NewTrust(nil)
	trust.Keys = &scanner.KeySet{Keys: []scanner.Key{{ID: scanner.KeyID(key), Public: key, Role: scanner.RolePassIssuer}}}
	var secrets [][]byte
	for _, c := range exampleCases {
		text, err := qr.DecodeFile(filepath.Join(exampleDir, "passes", c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		d := scanner.Decide(text, trust, nil, nil, scanner.Gate{Site: "north-gate"}, scanner.Moment{Wall: time.Now(), Trusted: true})
		if p := d.Pass; p != nil {
			secrets = append(secrets, p.ID, p.Household, []byte(p.Holder))
		}
	}
	return secrets
}

func makeExample(t *testing.T) {
	os.RemoveAll(exampleDir)
	passes := filepath.Join(exampleDir, "passes")
	if err := os.MkdirAll(passes, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"root", "issuer"} {
		if r := runMain(t, time.Now(), "keygen", "-o", filepath.Join(exampleDir, k)); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	hub, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(exampleDir, "hub-seal.pub"), []byte(hub.Public().String()+"\n"), 0o644)
	key := filepath.Join(exampleDir, "issuer.key")
	for _, c := range exampleCases {
		png := filepath.Join(passes, c.file)
		switch {
		case c.args != nil:
			args := append([]string{"issue", "-key", key, "-issuer", "compound-7", "-png", png, "-valid", "87600h", "-site", "north-gate"}, c.args...)
			if strings.Contains(strings.Join(c.args, " "), "-site") {
				args = append([]string{"issue", "-key", key, "-issuer", "compound-7", "-png", png, "-valid", "87600h"}, c.args...)
			}
			if r := runMain(t, time.Now(), args...); r.code != 0 {
				t.Fatalf("%s: %s", c.file, r.stderr)
			}
		case c.reason == "bad_signature":
			r := runMain(t, time.Now(), "issue", "-key", key, "-issuer", "compound-7", "-valid", "87600h", "-site", "north-gate", "-holder", "F.K. 0-0")
			text := strings.TrimSpace(r.stdout)
			i := len(text) - 20
			c := byte('0')
			if text[i] == '0' {
				c = '1'
			}
			writeQR(t, png, text[:i]+string(c)+text[i+1:])
		default:
			writeQR(t, png, "https://example.com/menu?table=4")
		}
	}
	// The private keys are not part of the example: a gate has none.
	os.Remove(filepath.Join(exampleDir, "root.key"))
	os.Remove(key)
}

func writeQR(t *testing.T, name, text string) {
	img, err := qr.Encode(text, qr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := qr.WritePNG(f, img); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
