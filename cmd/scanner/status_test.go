package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/store"
)

func TestStatus(t *testing.T) {
	cfg, _, dataDir := stdinConfig(t, `root_key = "root.pub"`)
	dir := filepath.Dir(cfg)
	if r := runMain(t, t0, "keygen", "-o", filepath.Join(dir, "root")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	root, err := readPrivateKey(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	// Sign and cache a key set, a status list and a policy, as sync would.
	ks, _ := scanner.SignKeySet(&scanner.KeySet{Version: 4, IssuedAt: t0.Unix()}, root)
	l, _ := scanner.NewStatusList("compound-7", 12, t0.Add(time.Hour), 100)
	sl, _ := scanner.SignStatusList(l, root)
	p := scanner.DefaultPolicy("main")
	p.Version, p.IssuedAt = 3, t0.Unix()
	pol, _ := scanner.SignPolicy(p, root)
	os.MkdirAll(dataDir, 0o700)
	tc, err := store.OpenTrust(filepath.Join(dataDir, trustFile), store.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tc.PutDoc("keyset", "keyset", ks)
	tc.PutDoc("status", "compound-7", sl)
	tc.PutDoc("policy", "main", pol)
	tc.PutDoc("policy", "forged", append(append([]byte{}, pol[:len(pol)-1]...), pol[len(pol)-1]^1))
	tc.Close()

	r := runMain(t, t0.Add(2*time.Hour), "status", "-config", cfg, "-json")
	if r.code != 0 {
		t.Fatalf("status: %d %s", r.code, r.stderr)
	}
	var rep statusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"keyset/keyset": 4, "status/compound-7": 12, "policy/main": 3}
	for _, d := range rep.Trust {
		key := d.Kind + "/" + d.Name
		if key == "policy/forged" {
			if d.Error == "" {
				t.Error("a forged policy shown as valid")
			}
			continue
		}
		if d.Error != "" || d.Version != want[key] {
			t.Errorf("%s: version %d (%s), want %d", key, d.Version, d.Error, want[key])
		}
		delete(want, key)
	}
	if len(want) != 0 {
		t.Errorf("missing %v", want)
	}
	if len(rep.Files) != 2 || rep.Files[0].Size == 0 || len(rep.Check) != 2 || !rep.Check[1].OK {
		t.Errorf("files %+v checks %+v", rep.Files, rep.Check)
	}
	// Nothing logged yet: no time floor, not the year 1.
	if r := runMain(t, t0, "status", "-config", cfg); r.code != 0 || !strings.Contains(r.stdout, "none yet (nothing logged)") || strings.Contains(r.stdout, "0001-01-01") {
		t.Errorf("text status: %d %s%s", r.code, r.stdout, r.stderr)
	}
}
