package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type run struct {
	code           int
	stdout, stderr string
}

func runMain(t *testing.T, now time.Time, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), &out, &errb
	m.Now = func() time.Time { return now }
	code := m.Run(context.Background(), args)
	return run{code, out.String(), errb.String()}
}

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// The README's walk-through: keygen, issue, verify of the PNG.
func TestKeygenIssueVerify(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "issuer")
	if r := runMain(t, t0, "keygen", "-o", prefix); r.code != 0 {
		t.Fatalf("keygen: %d %s", r.code, r.stderr)
	}
	if fi, err := os.Stat(prefix + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi.Mode(), err)
	}
	if r := runMain(t, t0, "keygen", "-o", prefix); r.code != 2 || !strings.Contains(r.stderr, "hint:") {
		t.Errorf("keygen over existing files: %d %q", r.code, r.stderr)
	}
	png := filepath.Join(dir, "pass.png")
	r := runMain(t, t0, "issue", "-key", prefix+".key", "-holder", "L.M. 3-402", "-png", png)
	if r.code != 0 {
		t.Fatalf("issue: %d %s", r.code, r.stderr)
	}
	text := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(text, "CP1:") {
		t.Fatalf("issue printed %q", text)
	}
	// The image is the pass itself, holder text and all: for its owner.
	if fi, err := os.Stat(png); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pass image: %v %v", fi.Mode(), err)
	}

	v := verifyJSON(t, t0.Add(time.Hour), 0, "verify", "-pub", prefix+".pub", png)
	if v["allow"] != true || v["reason"] != "ok" || v["colour"] != "green" || v["status"] != "green" {
		t.Errorf("verify of the PNG: %v", v)
	}
	if v := verifyJSON(t, t0, 0, "verify", "-pub", prefix+".pub", "-text", text); v["allow"] != true {
		t.Errorf("verify of the text: %v", v)
	}
	if v := verifyJSON(t, t0, 1, "verify", "-pub", prefix+".pub", "-at", "2026-03-03T08:00:00Z", png); v["reason"] != "expired" {
		t.Errorf("verify past expiry: %v", v)
	}
	if v := verifyJSON(t, t0, 1, "verify", "-pub", prefix+".pub", "-site", "elsewhere", png); v["reason"] != "wrong_site" {
		t.Errorf("verify at another site: %v", v)
	}

	// Any single character changed after the prefix: denied, exit 1.
	for i := len("CP1:"); i < len(text); i++ {
		c := byte('0')
		if text[i] == '0' {
			c = 'Z'
		}
		bad := text[:i] + string(c) + text[i+1:]
		v := verifyJSON(t, t0, 1, "verify", "-pub", prefix+".pub", "-text", bad)
		if v["allow"] != false || v["reason"] == "" || v["reason"] == "ok" {
			t.Fatalf("character %d changed: %v", i, v)
		}
	}

	// decode prints the file name, a tab and the quoted text.
	r = runMain(t, t0, "decode", png)
	if want := png + "\t\"" + text + "\"\n"; r.code != 0 || r.stdout != want {
		t.Errorf("decode: %d %q, want %q", r.code, r.stdout, want)
	}
}

// issue -png over an image already there (an earlier pass's, written
// world-readable before images were kept for their owner) leaves the new
// pass for its owner only too, as keygen -f does its key.
func TestIssuePNGOverAnOldImage(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "issuer")
	if r := runMain(t, t0, "keygen", "-o", prefix); r.code != 0 {
		t.Fatalf("keygen: %d %s", r.code, r.stderr)
	}
	png := filepath.Join(dir, "pass.png")
	if err := os.WriteFile(png, []byte("an earlier pass"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(png, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if r := runMain(t, t0, "issue", "-key", prefix+".key", "-png", png); r.code != 0 {
		t.Fatalf("issue: %d %s", r.code, r.stderr)
	}
	if fi, err := os.Stat(png); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pass image written over an old one: %v %v", fi.Mode(), err)
	}
}

// keygen where only the .pub is left (the .key lost, or moved away):
// refused, with no new .key written beside the old .pub, whose passes
// that .pub would not verify.
func TestKeygenLeavesNoHalfPair(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "issuer")
	if r := runMain(t, t0, "keygen", "-o", prefix); r.code != 0 {
		t.Fatalf("keygen: %d %s", r.code, r.stderr)
	}
	pub, err := os.ReadFile(prefix + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(prefix + ".key"); err != nil {
		t.Fatal(err)
	}
	if r := runMain(t, t0, "keygen", "-o", prefix); r.code != exitError || !strings.Contains(r.stderr, "hint:") {
		t.Errorf("keygen over an existing .pub: %d %q", r.code, r.stderr)
	}
	if _, err := os.Lstat(prefix + ".key"); !os.IsNotExist(err) {
		t.Errorf("keygen refused, yet wrote a new .key beside the old .pub: %v", err)
	}
	if b, err := os.ReadFile(prefix + ".pub"); err != nil || !bytes.Equal(b, pub) {
		t.Errorf("the old .pub changed: %v", err)
	}
}

func verifyJSON(t *testing.T, now time.Time, wantCode int, args ...string) map[string]any {
	t.Helper()
	r := runMain(t, now, args...)
	if r.code != wantCode {
		t.Fatalf("%v: exit %d, want %d; %s%s", args, r.code, wantCode, r.stdout, r.stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v: output is not one JSON object: %q", args, r.stdout)
	}
	return v
}

func TestVerifyBadInput(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "k")
	runMain(t, t0, "keygen", "-o", prefix)
	garbage := filepath.Join(dir, "garbage.png")
	os.WriteFile(garbage, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	blank := filepath.Join(dir, "blank.txt")
	os.WriteFile(blank, []byte("hello"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"verify", "-pub", prefix + ".pub", "-text", "CP1:!!!"}, 1},
		{[]string{"verify", "-pub", prefix + ".pub", "-text", "https://example.com"}, 1},
		{[]string{"verify", "-pub", prefix + ".pub", "-text", strings.Repeat("CP1:", 1000)}, 1},
		{[]string{"verify", "-pub", prefix + ".pub", garbage}, 2},
		{[]string{"verify", "-pub", prefix + ".pub", blank}, 2},
		{[]string{"verify", "-pub", prefix + ".pub", filepath.Join(dir, "missing.png")}, 2},
		{[]string{"verify", "-pub", prefix + ".key", "-text", "CP1:"}, 2},
		{[]string{"verify", "-text", "CP1:"}, 2},
		{[]string{"verify", "-pub", prefix + ".pub"}, 2},
		{[]string{"verify", "-pub", prefix + ".pub", "-at", "yesterday", "-text", "x"}, 2},
		{[]string{"issue", "-key", prefix + ".pub"}, 2},
		{[]string{"issue", "-key", prefix + ".key", "-status", "purple"}, 2},
		{[]string{"issue", "-key", prefix + ".key", "-holder", strings.Repeat("x", 40)}, 2},
		{[]string{"issue", "-key", prefix + ".key", "-nonsense"}, 2},
		{[]string{"frobnicate"}, 2},
		{[]string{}, 2},
	} {
		r := runMain(t, t0, tc.args...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, r.code, tc.code, r.stderr)
		}
		if tc.code == 2 && !strings.Contains(r.stderr, "scanner") && !strings.Contains(r.stderr, "usage") {
			t.Errorf("%v: no message on stderr", tc.args)
		}
		if strings.Contains(r.stderr, "panic") {
			t.Errorf("%v: panicked", tc.args)
		}
	}
}

func TestDecodeNoCode(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "k")
	runMain(t, t0, "keygen", "-o", prefix)
	png := filepath.Join(dir, "a.png")
	runMain(t, t0, "issue", "-key", prefix+".key", "-png", png)
	// A white image holds no code: its line has nothing after the tab.
	white := filepath.Join(dir, "white.png")
	writeWhitePNG(t, white)
	r := runMain(t, t0, "decode", white, png)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != 2 || lines[0] != white+"\t" || !strings.HasPrefix(lines[1], png+"\t\"CP1:") {
		t.Errorf("decode: %d %q", r.code, r.stdout)
	}
}

// issue -png naming the issuer's key file (or its .pub) must not write a
// picture of the pass over the key: keygen refuses to replace a key
// without -f, and the private key cannot be made again.
func TestIssuePNGKeepsKeyFiles(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "issuer")
	if r := runMain(t, t0, "keygen", "-o", prefix); r.code != 0 {
		t.Fatalf("keygen: %d %s", r.code, r.stderr)
	}
	for _, target := range []string{prefix + ".key", prefix + ".pub"} {
		before, err := os.ReadFile(target)
		if err != nil {
			t.Fatal(err)
		}
		r := runMain(t, t0, "issue", "-key", prefix+".key", "-png", target)
		after, err := os.ReadFile(target)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Errorf("issue -png %s (exit %d) wrote over the key file", filepath.Base(target), r.code)
		}
		if r.code != exitError {
			t.Errorf("issue -png %s: exit %d, want %d", filepath.Base(target), r.code, exitError)
		}
	}
	// The key still signs.
	if r := runMain(t, t0, "issue", "-key", prefix+".key"); r.code != 0 {
		t.Errorf("issue after: %d %s", r.code, r.stderr)
	}
}
