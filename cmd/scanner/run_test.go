package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/gate"
	"github.com/checkpointgate/checkpoint/output"
	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	"github.com/checkpointgate/checkpoint/store"
)

// TestMain lets a test run this program as a child process: with
// CHECKPOINT_TEST_MAIN=1 the test binary is the scanner.
func TestMain(m *testing.M) {
	if os.Getenv("CHECKPOINT_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// stdinConfig writes a config whose one input is stdin, and an issuer key.
func stdinConfig(t *testing.T, extra string) (cfg, key, dataDir string) {
	t.Helper()
	cfg, key, dataDir, _ = stdinConfigHub(t, extra)
	return cfg, key, dataDir
}

// stdinConfigHub is stdinConfig that also returns the hub's key, which
// opens the events.
func stdinConfigHub(t *testing.T, extra string) (cfg, key, dataDir string, hub *seal.PrivateKey) {
	t.Helper()
	dir := t.TempDir()
	if r := runMain(t, t0, "keygen", "-o", filepath.Join(dir, "issuer")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	hub, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "gate.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`site = "main"
data_dir = "data"
issuer_keys = ["issuer.pub"]
hub_seal_key = %q
trust_system_clock = true
%s
[[input]]
kind = "stdin"
direction = "entry"
`, hub.Public().String(), extra)), 0o644)
	return cfg, filepath.Join(dir, "issuer.key"), filepath.Join(dir, "data"), hub
}

// SIGTERM finishes the read in hand, closes the store and exits 0.
func TestRunSIGTERM(t *testing.T) {
	if os.Getenv("CHECKPOINT_QEMU") == "1" {
		t.Skip("signals to a child under qemu-user are not what this tests")
	}
	cfg, key, _ := stdinConfig(t, "")
	pass := strings.TrimSpace(runMain(t, time.Now(), "issue", "-key", key).stdout)

	cmd := exec.Command(os.Args[0], "run", "-config", cfg)
	cmd.Env = append(os.Environ(), "CHECKPOINT_TEST_MAIN=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(stdin, pass)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no decision: %v", err)
	}
	var v map[string]any
	if json.Unmarshal([]byte(line), &v); v["allow"] != true || v["logged"] != true {
		t.Fatalf("decision %q", line)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, cmd, 20*time.Second, "SIGTERM")
	// The store was closed cleanly: it opens at once, with the event.
	l := openDaemonLog(t, cfg)
	if st, _ := l.Stats(); st.Pending != 1 {
		t.Errorf("%d events in the log, want 1", st.Pending)
	}
}

// expectConfigError loads a config of the given text and wants an error
// that contains want.
func expectConfigError(t *testing.T, text, want string) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "gate.toml")
	os.WriteFile(name, []byte(text), 0o644)
	if _, err := LoadConfig(name); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want it to contain %q", err, want)
	}
}

// Bad configs: errors that name the key and its line.
func TestConfigErrors(t *testing.T) {
	base := `site = "main"
issuer_keys = ["k.pub"]
hub_seal_key = "cpseal-pub-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
`
	input := `
[[input]]
kind = "stdin"
direction = "entry"
`
	// The keys as a table of issuer names, from its third line.
	named := strings.Replace(base, "issuer_keys = [\"k.pub\"]\n", "", 1) + "[issuer_keys]\n"
	for _, tc := range []struct {
		name, text, want string
	}{
		{"unknown key", base + "colour = \"blue\"\n" + input, `:4: unknown key "colour"`},
		{"unknown nested key", base + "[policy.exit]\ngreen = \"allow\"\nsmile = true\n" + input, `:6: unknown key "policy.exit.smile"`},
		{"bad action", base + "[policy.entry]\nred = \"maybe\"\n" + input, `:5:`},
		{"bad direction", base + input + "[[input]]\nkind = \"stdin\"\ndirection = \"sideways\"\n", `:10: input.direction: unknown direction "sideways"`},
		{"bad duration", base + "[policy]\ndebounce = \"soon\"\n" + input, `:5:`},
		{"missing site", strings.Replace(base, `site = "main"`, "", 1) + input, "site: required"},
		{"no input", base, "input: at least one"},
		{"bad kind", base + "[[input]]\nkind = \"telepathy\"\ndirection = \"entry\"\n", `:5: input.kind: input 1: unknown kind "telepathy"`},
		{"timed without window", base + "[policy.exit]\nanti_passback = \"timed\"\n" + input, ":4: policy.exit.passback_window: timed anti-passback needs a positive window"},
		{"negative window", base + "[policy.exit]\ngreen = \"allow\"\npassback_window = \"-1s\"\n" + input, ":6: policy.exit.passback_window: -1s: want 0 to 8784h"},
		{"window of years", base + "[policy.exit]\nquota_count = 1\nquota_window = \"9000h\"\n" + input, ":6: policy.exit.quota_window: 9000h0m0s: want 0 to 8784h"},
		{"negative debounce", base + "[policy]\nclock_skew = \"1m\"\ndebounce = \"-5s\"\n" + input, ":6: policy.debounce: negative"},
		{"a day of clock skew", base + "[policy]\nclock_skew = \"24h\"\n" + input, ":5: policy.clock_skew: 24h0m0s: want 0 to 1h0m0s"},
		{"a debounce of minutes", base + "[policy]\ndebounce = \"500s\"\n" + input, ":5: policy.debounce: 8m20s: want 0 to 1m0s"},
		{"duration without unit", base + "[policy]\ndebounce = 5\n" + input, `:5: policy.debounce: give a duration with its unit`},
		{"hook timeout without unit", base + input + "[[hook]]\nexec = [\"x\"]\ntimeout = 2\n", `:10: hook.timeout: hook 1: give a duration with its unit`},
		{"no direction", base + input + "[[input]]\nkind = \"stdin\"\n", ":8: input.direction: input 2: required"},
		{"inline input without direction", base + "input = [{kind = \"stdin\", direction = \"exit\"}, {kind = \"stdin\", name = \"b\"}]\n", ":4: input.direction: input 2: required"},
		{"second hook's timeout without unit", base + input + "[[hook]]\nexec = [\"x\"]\ntimeout = \"2s\"\n[[hook]]\nexec = [\"y\"]\ntimeout = 2\n", ":13: hook.timeout: hook 2: give a duration with its unit"},
		{"inline hook timeout without unit", base + "hook = [{exec = [\"x\"], timeout = 2}]\n" + input, ":4: hook.timeout: hook 1: give a duration with its unit"},
		{"dotted duration without unit", base + "policy.debounce = 5\n" + input, ":4: policy.debounce: give a duration"},
		{"dotted in a table", base + "[policy]\nexit.quota_window = 5\n" + input, ":5: policy.exit.quota_window: give a duration"},
		{"inline policy", base + "policy = { debounce = 5 }\n" + input, ":4: policy.debounce: give a duration"},
		{"site too long", strings.Replace(base, `"main"`, `"`+strings.Repeat("s", 300)+`"`, 1) + "[policy]\ndebounce = \"5s\"\n" + input, ":1: site: longer than"},
		{"key=value in a multi-line array", base + input + "[[hook]]\nexec = [\n  \"x\",\n  \"retries=3\",\n]\ntimeout = \"-1s\"\nretries = 2\n", ":14: unknown key \"hook.retries\""},
		{"key=value in a multi-line array, bad value", base + input + "[[hook]]\nexec = [\n  \"x\",\n  \"timeout=3\",\n]\ntimeout = \"-1s\"\n", ":13: hook.timeout: hook 1: -1s: want 10ms to 1m0s"},
		{"no direction first", base + "[[input]]\nkind = \"stdin\"\n" + input, ":4: input.direction: input 1: required"},
		{"same name twice", base + "[[input]]\nname = \"lane\"\nkind = \"stdin\"\ndirection = \"entry\"\n[[input]]\nkind = \"stdin\"\nname = \"lane\"\ndirection = \"exit\"\n", `:10: input.name: input 2: "lane" is input 1's name too`},
		{"trust age without a hub", base + "[policy]\nmax_trust_age = \"72h\"\n" + input, ":5: policy.max_trust_age: a gate without a hub"},
		{"stdin twice", base + input + "[[input]]\nname = \"b\"\nkind = \"stdin\"\ndirection = \"exit\"\n", ":10: input.kind: input 2: input 1 reads standard input too"},
		{"one tty, two inputs", base + "[[input]]\nkind = \"serial\"\npath = \"/dev/ttyACM0\"\ndirection = \"entry\"\n[[input]]\nkind = \"keyboard\"\npath = \"/dev/ttyACM0\"\ndirection = \"exit\"\n", ":10: input.path: input 2: input 1 reads /dev/ttyACM0 too"},
		{"one reader not plugged in, spelt two ways", base + "[[input]]\nkind = \"serial\"\npath = \"/dev/ttyNOTHERE7\"\ndirection = \"entry\"\n[[input]]\nkind = \"keyboard\"\npath = \"/dev//./ttyNOTHERE7\"\ndirection = \"exit\"\n", ":10: input.path: input 2: input 1 reads /dev/ttyNOTHERE7 too"},
		{"two cameras on the default device", base + "[[input]]\nkind = \"camera\"\ndirection = \"entry\"\n[[input]]\nkind = \"camera\"\npath = \"/dev/video0\"\ndirection = \"exit\"\n", ":9: input.path: input 2: input 1 reads /dev/video0 too"},
		{"negative fps", base + input + "[[input]]\nkind = \"camera\"\ndirection = \"exit\"\nfps = -1\n", ":11: input.fps: input 2: negative"},
		// A source's key on an input of another kind.
		{"loop on a camera", base + input + "[[input]]\nkind = \"camera\"\ndirection = \"exit\"\nloop = true\n", ":11: input.loop: input 2: a folder input's key, not a camera input's"},
		{"loop on a serial reader", base + "[[input]]\nkind = \"serial\"\npath = \"/dev/ttyACM0\"\ndirection = \"exit\"\nloop = true\n", ":8: input.loop: input 1: a folder input's key"},
		{"a path for stdin (serial meant)", base + "[[input]]\nkind = \"stdin\"\ndirection = \"entry\"\npath = \"/dev/ttyACM0\"\n", ":7: input.path: input 1: a stdin input reads standard input"},
		// A site no pass can name: every pass would be denied wrong_site.
		{"site not printable", strings.Replace(base, `"main"`, `"north\tgate"`, 1) + input, ":1: site: not printable"},
		// Rules that would do nothing.
		{"quota on entry", base + "[policy.entry]\nquota_count = 1\nquota_window = \"48h\"\n" + input, ":5: policy.entry.quota_count: the household quota counts exits only"},
		{"window without timed anti-passback", base + "[policy.exit]\nanti_passback = \"hard\"\npassback_window = \"10m\"\n" + input, `:6: policy.exit.passback_window: for anti_passback = "timed" only`},
		{"hook not http", base + input + "[[hook]]\nurl = \"ftp://127.0.0.1/x\"\n", `:9: hook.url: hook 1: want an http`},
		{"hook URL with a password, not quoted", base + input + "[[hook]]\nurl = \"http://u:s3cret@/x\"\n", `:9: hook.url: hook 1: want an http:// or https:// URL with a host`},
		{"bad escape in a hook URL, not quoted", base + input + "[[hook]]\nurl = \"http://gate:s3cret\\u12zz@hub/x\"\n", `:9: hook.url: expected four hexadecimal digits after '\u', but got "(a URL, not shown)" instead`},
		{"negative hook timeout", base + input + "[[hook]]\nurl = \"http://127.0.0.1/x\"\n[[hook]]\nexec = [\"x\"]\ntimeout = \"-1s\"\n", ":12: hook.timeout: hook 2: -1s: want 10ms to 1m0s"},
		{"hook timeout of a year", base + input + "[[hook]]\nexec = [\"x\"]\ntimeout = \"8760h\"\n", ":10: hook.timeout: hook 1: 8760h0m0s: want 10ms to 1m0s"},
		{"negative pulse", base + input + "[relay]\npin = \"GPIO17\"\npulse = \"-1s\"\n", ":10: relay.pulse: -1s: want 50ms to 1m0s"},
		{"pulse of 500s, not 500ms", base + input + "[relay]\npin = \"GPIO17\"\npulse = \"500s\"\n", ":10: relay.pulse: 8m20s: want 50ms to 1m0s"},
		{"pulse too short to work a strike", base + input + "[relay]\npin = \"GPIO17\"\npulse = \"1ns\"\n", ":10: relay.pulse: 1ns: want 50ms"},
		{"syntax", base + "site = = 1\n", ":4:"},
		{"hook with both", base + input + "[[hook]]\nexec = [\"x\"]\nurl = \"http://127.0.0.1/\"\n", "exactly one of exec or url"},
		{"bad log failure", base + "on_log_failure = \"shrug\"\n" + input, `:4: on_log_failure: "shrug"`},
		{"two keys for any issuer", strings.Replace(base, `["k.pub"]`, `["k.pub", "k2.pub"]`, 1) + input, `:2: issuer_keys: 2 keys, each signing passes in any issuer's name`},
		{"an issuer name too long", named + strings.Repeat("d", 65) + " = \"k.pub\"\n" + input, `:4: issuer_keys.ddd`},
		{"an issuer with no key", named + "district-7 = []\n" + input, `:4: issuer_keys.district-7: no key file`},
		{"an issuer's key not a file name", named + "district-7 = 7\n" + input, `:4: issuer_keys.district-7: want a key file`},
		{"two issuers' keys not file names", named + "district-a = \"k.pub\"\n\ndistrict-c = true\ndistrict-b = 7\n" + input, `:7: issuer_keys.district-b: want a key file`},
		{"an issuer's key not a file name, dotted", strings.Replace(base, `issuer_keys = ["k.pub"]`, "issuer_keys.district-b = 7", 1) + input, `:2: issuer_keys.district-b: want a key file`},
		// Every key below [issuer_keys] is in that table: a config key
		// there is not an issuer (root_key would leave the gate no root).
		{"a config key below the issuers", strings.TrimSuffix(named, "[issuer_keys]\n") + input + "[issuer_keys]\ncompound-7 = \"k.pub\"\nroot_key = \"root.pub\"\n",
			`:9: issuer_keys.root_key: root_key is a key of the config, not an issuer`},
		// A value refused in an [[input]] or [[hook]] is told on its own
		// line, not on that key's in the last element, which may be fine.
		{"bad direction in the first input", base + "[[input]]\nkind = \"stdin\"\ndirection = \"sideways\"\n[[input]]\nkind = \"camera\"\ndirection = \"exit\"\n",
			`:6: input.direction: unknown direction "sideways"`},
		{"text for a number in the first input", base + "[[input]]\nkind = \"camera\"\ndirection = \"exit\"\nwidth = \"wide\"\n[[input]]\nkind = \"camera\"\npath = \"/dev/video1\"\ndirection = \"exit\"\nwidth = 640\nheight = 480\n",
			`:7: input.width: incompatible types`},
		{"bad timeout in the first hook", base + "[[hook]]\nexec = [\"x\"]\ntimeout = \"abc\"\n[[hook]]\nexec = [\"y\"]\ntimeout = \"1s\"\n" + input,
			`:6: hook.timeout: invalid duration: "abc"`},
		// What the TOML decoder refuses names its key too.
		{"not a duration", base + "[policy]\nclock_skew = \"abc\"\n" + input, `:5: policy.clock_skew: invalid duration: "abc"`},
		{"no such mode", base + "[policy.exit]\nanti_passback = \"medium\"\n" + input, `:5: policy.exit.anti_passback: unknown anti-passback mode "medium"`},
		{"no such direction", base + "[[input]]\nkind = \"camera\"\ndirection = \"sideways\"\n", `:6: input.direction: unknown direction "sideways"`},
		{"a number for a path", base + "control_socket = 5\n" + input, `:4: control_socket: incompatible types`},
		{"text for a number", base + "[[input]]\nkind = \"camera\"\ndirection = \"exit\"\nwidth = \"wide\"\n", `:7: input.width: incompatible types`},
		// What a source would refuse at start is refused with its line.
		{"a baud rate no reader uses", base + "[[input]]\nkind = \"serial\"\npath = \"/dev/ttyS9\"\ndirection = \"entry\"\nbaud = 96000\n", ":8: input.baud: input 1: 96000: not a serial rate"},
		{"width without height", base + "[[input]]\nkind = \"camera\"\ndirection = \"exit\"\nwidth = 1280\n", ":4: input.height: input 1: give width and height together"},
		{"a frame 100000 pixels a side", base + "[[input]]\nkind = \"camera\"\ndirection = \"exit\"\nwidth = 100000\nheight = 100000\n", ":7: input.width: input 1: 100000: want at most 4096"},
		{"5000 frames a second", base + "[[input]]\nkind = \"camera\"\ndirection = \"exit\"\nfps = 5000\n", ":7: input.fps: input 1: 5000: want at most 1000"},
		{"a baud rate for a camera", base + "[[input]]\nkind = \"camera\"\ndirection = \"exit\"\nbaud = 9600\n", ":7: input.baud: input 1: a serial input's key, not a camera input's"},
		{"a frame rate for a reader", base + "[[input]]\nkind = \"keyboard\"\npath = \"/dev/input/event0\"\ndirection = \"exit\"\nfps = 30\n", ":8: input.fps: input 1: a camera's key, not a keyboard input's"},
	} {
		t.Run(tc.name, func(t *testing.T) { expectConfigError(t, tc.text, tc.want) })
	}
	// The example config loads.
	if _, err := LoadConfig("../../configs/scanner.example.toml"); err != nil {
		t.Errorf("example config: %v", err)
	}
}

// Between reads the daemon keeps the store's time floor moving by the time
// that really passed, never by the wall clock, and stops when told.
func TestKeepFloor(t *testing.T) {
	hub, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC) // months behind the wall clock
	events, err := store.OpenLog(filepath.Join(t.TempDir(), "events.db"), store.LogOptions{Hub: hub.Public()})
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	if err := events.RaiseTimeFloor(start); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	var kept atomic.Int32 // calls of the gate's KeepTime
	done := make(chan struct{})
	go func() {
		defer close(done)
		keepFloor(ctx, events, func() error { kept.Add(1); return nil }, time.Millisecond, slog.New(slog.DiscardHandler))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !events.TimeFloor().After(start) {
		if time.Now().After(deadline) {
			t.Fatalf("the time floor stayed at %v", events.TimeFloor())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if f, most := events.TimeFloor(), start.Add(time.Since(began)); f.After(most) {
		t.Fatalf("floor %v, past the %v that really passed since %v", f, time.Since(began), start)
	}
	if kept.Load() == 0 {
		t.Error("the gate was never asked to keep its trusted time")
	}
}

// One daemon, two inputs, two directions: an entry camera (a folder of
// frames here) and an exit reader (stdin), read at once.
func TestTwoInputsTwoDirections(t *testing.T) {
	cfg, key, _ := stdinConfig(t, "")
	frames := filepath.Join(filepath.Dir(cfg), "frames")
	os.Mkdir(frames, 0o755)
	if r := runMain(t, time.Now(), "issue", "-key", key, "-png", filepath.Join(frames, "in.png")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	out := strings.TrimSpace(runMain(t, time.Now(), "issue", "-key", key).stdout)
	b, _ := os.ReadFile(cfg)
	b = bytes.Replace(b, []byte("[[input]]\nkind = \"stdin\"\ndirection = \"entry\"\n"),
		[]byte("[[input]]\nname = \"reader-out\"\nkind = \"stdin\"\ndirection = \"exit\"\n\n[[input]]\nname = \"cam-in\"\nkind = \"folder\"\npath = \"frames\"\ndirection = \"entry\"\n"), 1)
	os.WriteFile(cfg, b, 0o644)

	var stdout, stderr bytes.Buffer
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(out+"\n"), &stdout, &stderr
	if code := m.Run(context.Background(), []string{"run", "-config", cfg}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	seen := map[string]string{}
	for line := range strings.Lines(stdout.String()) {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if v["allow"] != true || v["logged"] != true {
			t.Errorf("not allowed and logged: %v", v)
		}
		seen[fmt.Sprint(v["input"])] = fmt.Sprint(v["direction"])
	}
	if len(seen) != 2 || seen["cam-in"] != "entry" || seen["reader-out"] != "exit" {
		t.Errorf("decisions by input: %v\n%s", seen, stdout.String())
	}
}

// Keys named by issuer in issuer_keys sign only their issuer's passes: a
// pass in another issuer's name, signed by a key the gate trusts, is
// denied (unknown_key), and nothing of it reaches the gate state.
func TestIssuerKeysByName(t *testing.T) {
	cfg, keyA, _ := stdinConfig(t, "")
	dir := filepath.Dir(cfg)
	if r := runMain(t, t0, "keygen", "-o", filepath.Join(dir, "b")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	b, _ := os.ReadFile(cfg)
	b = bytes.Replace(b, []byte("issuer_keys = [\"issuer.pub\"]\n"), nil, 1)
	b = append(b, "\n[issuer_keys]\ndistrict-a = \"issuer.pub\"\ndistrict-b = \"b.pub\"\n"...)
	os.WriteFile(cfg, b, 0o644)
	issue := func(key, issuer string) string {
		r := runMain(t, time.Now(), "issue", "-key", key, "-issuer", issuer)
		if r.code != 0 {
			t.Fatal(r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	reads := []string{
		issue(keyA, "district-a"),
		issue(keyA, "district-b"), // a's key, in b's name
		issue(filepath.Join(dir, "b.key"), "district-b"),
	}
	var stdout, stderr bytes.Buffer
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(strings.Join(reads, "\n")+"\n"), &stdout, &stderr
	if code := m.Run(context.Background(), []string{"run", "-config", cfg}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var got []string
	for line := range strings.Lines(stdout.String()) {
		var v struct{ Reason string }
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, v.Reason)
	}
	if want := []string{"ok", "unknown_key", "ok"}; !slices.Equal(got, want) {
		t.Errorf("reasons %v, want %v", got, want)
	}
}

// The daemon's event log keeps the gate state for as long as the policy's
// longest window looks back: a quota of one exit in 14 days still counts an
// exit of 8 days ago, past the store's default of 7.
func TestLogKeepsStateForTheLongestWindow(t *testing.T) {
	p := scanner.DefaultPolicy("main")
	p.Exit.QuotaCount, p.Exit.QuotaWindow = 1, 14*24*time.Hour
	hub, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	opt := logOptions(hub.Public(), p, slog.New(slog.DiscardHandler))
	opt.Now = func() time.Time { return start }
	events, err := store.OpenLog(filepath.Join(t.TempDir(), logFile), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	house := []byte("house-1")
	if _, err := events.Append(&scanner.Event{Wall: start.UnixNano(), WallTrusted: true, Site: "main", Direction: scanner.Exit,
		Allow: true, Reason: scanner.ReasonOK, PassID: []byte("pass-1"), Household: house}); err != nil {
		t.Fatal(err)
	}
	later := start.Add(8 * 24 * time.Hour)
	if err := events.RaiseTimeFloor(later); err != nil { // expires what is past the horizon
		t.Fatal(err)
	}
	if n, err := events.HouseholdExits("", house, later.Add(-p.Exit.QuotaWindow)); err != nil || n != 1 {
		t.Errorf("exits in the window: %d, %v; want the one of 8 days ago", n, err)
	}
}

// A standard output nobody reads, then one that goes away, neither holds
// up nor ends the gate: every read is logged, and the daemon exits 0 when
// its input ends. The same with standard error on that pipe too (2>&1):
// the lines the gate logs about the lines it dropped are dropped too.
func TestRunStdoutStalledThenGone(t *testing.T) {
	if os.Getenv("CHECKPOINT_QEMU") == "1" {
		t.Skip("pipes and signals of a child under qemu-user are not what this tests")
	}
	for _, stderrToo := range []bool{false, true} {
		t.Run(fmt.Sprintf("stderr on the pipe %v", stderrToo), func(t *testing.T) {
			cfg, _, _ := stdinConfig(t, "")
			const reads = 400 // far more lines than a pipe holds
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := childMain("run", "-config", cfg)
			cmd.Stdout, cmd.Stderr = w, io.Discard
			if stderrToo {
				cmd.Stderr = w
			}
			stdin, _ := cmd.StdinPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			go func() {
				for i := range reads {
					fmt.Fprintf(stdin, "not a pass %d\n", i)
				}
			}()
			// Nobody reads the pipe, yet every read is decided.
			deadline := time.Now().Add(60 * time.Second)
			for {
				var rep statusReport
				res := runMain(t, time.Now(), "status", "-config", cfg, "-json")
				if json.Unmarshal([]byte(res.stdout), &rep) == nil && rep.Gate != nil && rep.Gate.Decisions == reads {
					if dropped := rep.Gate.LogLinesDropped; (dropped > 0) != stderrToo {
						t.Errorf("%d lines of the daemon's log dropped", dropped)
					}
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("with stdout stalled, status says %s", res.stdout)
				}
				time.Sleep(100 * time.Millisecond)
			}
			// Now nobody can read it.
			r.Close()
			stdin.Close()
			waitExit(t, cmd, 60*time.Second, "its input ended")
			if st, _ := openDaemonLog(t, cfg).Stats(); st.Pending != reads {
				t.Errorf("%d events logged, want %d", st.Pending, reads)
			}
		})
	}
}

// A hook's command named by a relative path is beside the config, as
// every other path in it, wherever the daemon was started (systemd starts
// it in /); a bare name is still looked up in PATH.
func TestHookCommandBesideTheConfig(t *testing.T) {
	cfg, _, _ := stdinConfig(t, "[[hook]]\nexec = [\"./open.sh\"]\n[[hook]]\nexec = [\"sh\", \"open.sh\"]\n")
	dir := filepath.Dir(cfg)
	script := "#!/bin/sh\ncat >/dev/null\necho \"$0\" >> " + filepath.Join(dir, "ran") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "open.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := childMain("run", "-config", cfg)
	cmd.Dir = t.TempDir() // not the config's folder
	cmd.Stdin = strings.NewReader("not a pass\n")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 30*time.Second, "its input ended")
	b, err := os.ReadFile(filepath.Join(dir, "ran"))
	if err != nil {
		t.Fatalf("the hook beside the config did not run: %v\n%s", err, stderr.String())
	}
	// The second hook's "open.sh" is an argument, looked up from the
	// daemon's folder by sh: it finds none there, and does not run.
	if got := strings.Fields(string(b)); len(got) != 1 || got[0] != filepath.Join(dir, "open.sh") {
		t.Errorf("ran as %q; want once, as %s", got, filepath.Join(dir, "open.sh"))
	}
}

// Hook commands start with no signal ignored: the daemon's own way of
// living through a closed stdout (SIGPIPE) is not passed on to them.
func TestHookSignalsAtDefault(t *testing.T) {
	if os.Getenv("CHECKPOINT_QEMU") == "1" {
		t.Skip("/proc/self/status of a child under qemu-user is qemu's")
	}
	out := filepath.Join(t.TempDir(), "status")
	cfg, _, _ := stdinConfig(t, fmt.Sprintf("[[hook]]\nexec = [\"sh\", \"-c\", \"grep SigIgn /proc/self/status > %s\"]\n", out))
	cmd := exec.Command(os.Args[0], "run", "-config", cfg)
	cmd.Env = append(os.Environ(), "CHECKPOINT_TEST_MAIN=1")
	cmd.Stdin = strings.NewReader("not a pass\n")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 30*time.Second, "its input ended")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the hook did not run: %v", err)
	}
	var mask uint64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "SigIgn: %x", &mask); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	if pipe := uint64(1) << (syscall.SIGPIPE - 1); mask&pipe != 0 {
		t.Errorf("the hook's command starts with SIGPIPE ignored (SigIgn %016x)", mask)
	}
}

// A hook's failures reach the daemon's own log, as JSON lines like the
// rest, where alerting on them reads.
func TestHookFailuresInTheDaemonsLog(t *testing.T) {
	cfg, _, _ := stdinConfig(t, "[[hook]]\nexec = [\"sh\", \"-c\", \"exit 4\"]\n")
	cmd := childMain("run", "-config", cfg)
	cmd.Stdin = strings.NewReader("not a pass\n")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 30*time.Second, "its input ended")
	for line := range strings.Lines(stderr.String()) {
		var l struct{ Msg, Hook, Err string }
		if json.Unmarshal([]byte(line), &l) != nil {
			t.Errorf("not a JSON line in the daemon's log: %q", line)
		}
		if l.Msg == "hook failed" && l.Hook == "exec:sh" && strings.Contains(l.Err, "exit status 4") {
			return
		}
	}
	t.Errorf("the hook's failure is not in the daemon's log:\n%s", stderr.String())
}

// An error's line is found past what could throw off the reading of
// values: commented-out arrays, escaped quotes, multi-line strings (a
// hook's shell script) holding brackets, '=' and table-like lines.
// Key files the config names are read with it: a missing or bad one is an
// error naming its key and line, with a hint, before the gate opens
// anything.
func TestConfigKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	hub := writeKeyFiles(t, dir)
	os.WriteFile(filepath.Join(dir, "junk.pub"), []byte("not a key\n"), 0o644)
	input := "[[input]]\nkind = \"stdin\"\ndirection = \"entry\"\n"
	for _, tc := range []struct{ name, keys, want, hint string }{
		{"issuer key file missing", "issuer_keys = [\"gone.pub\"]\nhub_seal_key = \"hub.pub\"\n",
			":2: issuer_keys: open " + filepath.Join(dir, "gone.pub"), "issuers"},
		{"named issuer's key file missing", "hub_seal_key = \"hub.pub\"\n[issuer_keys]\ndistrict-7 = \"k.pub\"\ndistrict-9 = [\"gone.pub\"]\n",
			":5: issuer_keys.district-9: open " + filepath.Join(dir, "gone.pub"), "issuers"},
		{"one key for two issuers", "hub_seal_key = \"hub.pub\"\n[issuer_keys]\ndistrict-7 = \"k.pub\"\ndistrict-9 = \"k.pub\"\n",
			":5: issuer_keys.district-9: the key of issuer_keys.district-7", "one key an issuer"},
		{"issuer key file not a key", "issuer_keys = [\"junk.pub\"]\nhub_seal_key = \"hub.pub\"\n", ":2: issuer_keys: " + filepath.Join(dir, "junk.pub"), "scanner keygen"},
		{"root key file missing", "root_key = \"root.pub\"\nhub_seal_key = \"hub.pub\"\n", ":2: root_key: open", "root"},
		{"hub key file missing", "issuer_keys = [\"k.pub\"]\n\nhub_seal_key = \"nohub.pub\"\n", ":4: hub_seal_key: open", "cpseal-pub-"},
		{"hub key inline, bad", "issuer_keys = [\"k.pub\"]\nhub_seal_key = \"cpseal-pub-AAAA\"\n", ":3: hub_seal_key: parse seal public key", "cpseal-pub-"},
		{"hub key the issuer's", "issuer_keys = [\"k.pub\"]\nhub_seal_key = \"k.pub\"\n", ":3: hub_seal_key:", "cpseal-pub-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := filepath.Join(dir, "gate.toml")
			os.WriteFile(name, []byte("site = \"main\"\n"+tc.keys+input), 0o644)
			r := runMain(t, time.Now(), "run", "-config", name)
			if r.code == 0 || !strings.Contains(r.stderr, name+tc.want) || !strings.Contains(r.stderr, "hint:") || !strings.Contains(r.stderr, tc.hint) {
				t.Errorf("exit %d, stderr %q; want %q and a hint with %q", r.code, r.stderr, name+tc.want, tc.hint)
			}
		})
	}
	// Given inline, the sealing key needs no file.
	name := filepath.Join(dir, "gate.toml")
	os.WriteFile(name, []byte("site = \"main\"\nissuer_keys = [\"k.pub\"]\nhub_seal_key = \""+hub+"\"\n"+input), 0o644)
	if _, err := LoadConfig(name); err != nil {
		t.Error(err)
	}
}

func TestConfigErrorLinesPastOddValues(t *testing.T) {
	base := "site = \"main\"\nissuer_keys = [\"k.pub\"]\nhub_seal_key = \"cpseal-pub-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"\n"
	input := "[[input]]\nkind = \"stdin\"\ndirection = \"entry\"\n"
	for _, tc := range []struct{ name, text, want string }{
		{"commented array", base + "# exec = [\n#   \"x\",\n# ]\n" + input + "[policy]\ndebounce = 5\n", ":11: policy.debounce"},
		{"commented array, unknown key", base + "# exec = [\n#   \"x\",\n# ]\n" + input + "colour = \"blue\"\n", ":10: unknown key"},
		{"escaped quote", base + "[[hook]]\nexec = [\"echo\", \"a\\\"[\"]\ntimeout = 5\n" + input, ":6: hook.timeout"},
		{"escaped quote, later table", base + "[[hook]]\nexec = [\"echo\", \"a\\\"[\"]\n" + input + "[policy]\ndebounce = 5\n", ":10: policy.debounce"},
		{"multi-line string", base + input + "[[hook]]\nexec = [\"sh\", \"-c\", \"\"\"\necho hi\n\"\"\"]\ntimeout = 5\n", ":11: hook.timeout"},
		{"multi-line string, second hook", base + input + "[[hook]]\nexec = [\"sh\", \"-c\", \"\"\"\necho hi\n\"\"\"]\n[[hook]]\nexec = [\"y\"]\ntimeout = 5\n", ":13: hook.timeout: hook 2"},
		{"multi-line literal", base + input + "[[hook]]\nexec = ['sh', '-c', '''\n[ -f /x ] && a=[\n''']\ntimeout = 5\n", ":11: hook.timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) { expectConfigError(t, tc.text, tc.want) })
	}
	// All of it in a valid config loads.
	dir := t.TempDir()
	writeKeyFiles(t, dir)
	name := filepath.Join(dir, "gate.toml")
	os.WriteFile(name, []byte(strings.Replace(base, "cpseal-pub-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "hub.pub", 1)+"# exec = [\n#   \"x\",\n# ]\n"+input+"[[hook]]\nexec = [\"sh\", \"-c\", \"\"\"\n[ -f /x ] && a=[\n\"\"\", \"a\\\"[\"]\ntimeout = \"2s\"\n[policy]\ndebounce = \"5s\"\n"), 0o644)
	if _, err := LoadConfig(name); err != nil {
		t.Error(err)
	}
}

// The hooks are closed together when the gate stops: three hooks whose
// calls hang are all cut off output.HookDrain after the stop began, not
// one after another.
func TestStopClosesHooksTogether(t *testing.T) {
	hooks := ""
	for range 3 {
		hooks += "[[hook]]\nexec = [\"sleep\", \"60\"]\ntimeout = \"50s\"\n"
	}
	cfg, _, _ := stdinConfig(t, hooks)
	in, feed := io.Pipe()
	out, lines := io.Pipe()
	m := NewMain()
	var stderr bytes.Buffer // read once Run has returned
	m.Stdin, m.Stdout, m.Stderr = in, lines, &stderr
	ctx, stop := context.WithCancel(context.Background()) // stands in for SIGTERM
	defer stop()
	code := make(chan int, 1)
	go func() { code <- m.Run(ctx, []string{"run", "-config", cfg}); lines.Close() }()
	defer feed.Close()
	fmt.Fprintln(feed, "not a pass")
	line, err := bufio.NewReader(out).ReadString('\n')
	go io.Copy(io.Discard, out)
	if err != nil || !strings.Contains(line, `"reason"`) {
		stop()
		<-code
		t.Fatalf("decision %q, %v\n%s", line, err, stderr.String())
	}
	time.Sleep(300 * time.Millisecond) // every hook's call is under way
	began := time.Now()
	stop()
	if c := <-code; c != 0 {
		t.Fatalf("exit %d: %s", c, stderr.String())
	}
	if took := time.Since(began); took > output.HookDrain+3*time.Second {
		t.Errorf("the gate took %v to stop; every hook's call ends %v after the stop began", took.Round(100*time.Millisecond), output.HookDrain)
	}
}

// deviceConfig writes gate.toml in dir with one input for each kind and
// path pair, the first at the entry and the others at the exit, and
// returns its name.
func deviceConfig(t *testing.T, dir string, kindPath ...string) string {
	t.Helper()
	writeKeyFiles(t, dir)
	text := "site = \"main\"\nissuer_keys = [\"k.pub\"]\nhub_seal_key = \"hub.pub\"\n"
	for i := 0; i+1 < len(kindPath); i += 2 {
		dir := "exit"
		if i == 0 {
			dir = "entry"
		}
		text += fmt.Sprintf("[[input]]\nkind = %q\npath = %q\ndirection = %q\n", kindPath[i], kindPath[i+1], dir)
	}
	name := filepath.Join(dir, "gate.toml")
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// wantOneDevice checks that config name refuses its second input, on line
// 10, as reading the first input's device.
func wantOneDevice(t *testing.T, name string) {
	t.Helper()
	if _, err := LoadConfig(name); err == nil || !strings.Contains(err.Error(), ":10: input.path: input 2: input 1 reads") {
		t.Errorf("error %v, want input 2's path refused", err)
	}
}

// A device not plugged in yet, named through a folder that is a link and
// through the folder itself, is one device.
func TestConfigOneDeviceThroughALinkedFolder(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	os.Mkdir(real, 0o755)
	if err := os.Symlink(real, filepath.Join(dir, "link")); err != nil {
		t.Skip(err)
	}
	wantOneDevice(t, deviceConfig(t, dir, "serial", filepath.Join(real, "ttyNOTHERE7"), "keyboard", filepath.Join(dir, "link", "ttyNOTHERE7")))
}

// One device under two names (a link, as /dev/v4l/by-id has) is one
// device: two inputs on it are refused.
func TestConfigOneDeviceTwoNames(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ttyACM0"), nil, 0o600)
	if err := os.Symlink("ttyACM0", filepath.Join(dir, "reader-by-id")); err != nil {
		t.Skip(err)
	}
	wantOneDevice(t, deviceConfig(t, dir, "serial", "ttyACM0", "serial", "reader-by-id"))
}

// A gate with a hub takes the age of its trust data from the signed
// documents it holds until the hub confirms them: a key set signed a
// minute ago is fresh under max_trust_age, one signed a week ago is not.
func TestTrustAgeFromSignedDocuments(t *testing.T) {
	for _, tc := range []struct {
		signed time.Duration
		allow  bool
	}{{time.Minute, true}, {7 * 24 * time.Hour, false}} {
		cfg, key, dataDir := stdinConfig(t, "root_key = \"root.pub\"\n[policy]\nmax_trust_age = \"72h\"\nstale_trust = \"deny\"\n")
		dir := filepath.Dir(cfg)
		if r := runMain(t, time.Now(), "keygen", "-o", filepath.Join(dir, "root")); r.code != 0 {
			t.Fatal(r.stderr)
		}
		root, err := readPrivateKey(filepath.Join(dir, "root.key"))
		if err != nil {
			t.Fatal(err)
		}
		issuer, err := readPublicKey(strings.TrimSuffix(key, ".key") + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		ks, err := scanner.SignKeySet(&scanner.KeySet{Version: 1, IssuedAt: time.Now().Add(-tc.signed).Unix(),
			Keys: []scanner.Key{{ID: scanner.KeyID(issuer), Public: issuer, Role: scanner.RolePassIssuer, Issuer: "compound-7"}}}, root)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(dataDir, 0o700)
		tc2, err := store.OpenTrust(filepath.Join(dataDir, trustFile), store.TrustOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := tc2.PutDoc("keyset", "keyset", ks); err != nil {
			t.Fatal(err)
		}
		tc2.Close()
		pass := strings.TrimSpace(runMain(t, time.Now(), "issue", "-key", key, "-issuer", "compound-7").stdout)
		var stdout, stderr bytes.Buffer
		m := NewMain()
		m.Stdin, m.Stdout, m.Stderr = strings.NewReader(pass+"\n"), &stdout, &stderr
		if code := m.Run(context.Background(), []string{"run", "-config", cfg}); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		allowed := strings.Contains(stdout.String(), `"allow":true`)
		if allowed != tc.allow || (!allowed && !strings.Contains(stdout.String(), "trust_too_old")) {
			t.Errorf("key set signed %v ago: %s", tc.signed, stdout.String())
		}
	}
}

// Paths resolve as the kernel resolves them: ".." after a link goes up
// from where the link led, a link to a device not plugged in yet leads to
// it, and a loop of links ends.
func TestResolved(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	os.MkdirAll(filepath.Join(real, "sub"), 0o755)
	for link, target := range map[string]string{
		"link":   filepath.Join(real, "sub"),
		"reader": filepath.Join(dir, "ttyNOTHERE7"),
		"rel":    "real/sub",
		"loop1":  "loop2",
		"loop2":  "loop1",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Skip(err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{dir + "/link/../ttyX", real + "/ttyX"},
		{dir + "/reader", dir + "/ttyNOTHERE7"},
		{dir + "/rel/../ttyX", real + "/ttyX"},
		{dir + "//real/./sub/", real + "/sub"},
		{"/", "/"},
	} {
		want := tc.want
		if w, err := filepath.EvalSymlinks(filepath.Dir(want)); err == nil {
			want = filepath.Join(w, filepath.Base(want))
		}
		if got := resolved(tc.in); got != want {
			t.Errorf("resolved(%s) = %s, want %s", tc.in, got, want)
		}
	}
	// A loop ends, at one of the links' names.
	if got := resolved(dir + "/loop1/x"); !strings.HasSuffix(got, "/x") {
		t.Errorf("resolved(a loop of links /x) = %s", got)
	}
}

// signedTrust is a trust whose key set the root signed at signed.
func signedTrust(t *testing.T, signed time.Time) *scanner.Trust {
	t.Helper()
	rootPub, root, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := scanner.SignKeySet(&scanner.KeySet{Version: 1, IssuedAt: signed.Unix()}, root)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := scanner.NewTrust(rootPub).WithKeySet(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// A gate that starts before NTP has synchronised counts its trust's age
// from the documents once trusted time comes, not from the floor it
// started at.
func TestTrustAgeOnceTimeIsTrusted(t *testing.T) {
	signed := time.Now().Add(-time.Minute)
	var now atomic.Pointer[scanner.Trust]
	now.Store(signedTrust(t, signed))
	floor := time.Now().Add(-14 * 24 * time.Hour) // the build time, say
	clock := gate.NewClock(floor)
	synced := false
	clock.Synced = func() bool { return synced }
	fresh := freshener(&now, clock)
	if got := fresh().FreshAt; got.After(floor.Add(time.Hour)) {
		t.Errorf("before trusted time: FreshAt %v, past the clock's time %v", got, floor)
	}
	synced = true
	if got := fresh().FreshAt; !got.Equal(time.Unix(signed.Unix(), 0).UTC()) {
		t.Errorf("once time is trusted: FreshAt %v, want the key set's time %v", got, signed)
	}
}

// A device input's relative path is relative to the config file, as the
// config says, wherever the daemon was started.
func TestDevicePathRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ttyACM0"), nil, 0o600) // not a tty: the open gets past finding it
	cfg, err := LoadConfig(deviceConfig(t, dir, "serial", "ttyACM0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	inputs, err := NewMain().openInputs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer inputs[0].Source.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := inputs[0].Source.Next(ctx); errors.Is(err, os.ErrNotExist) {
		t.Errorf("the serial input looked for its device beside the working folder: %v", err)
	}
}

// A document dated ahead is capped at the first trusted reading and ages
// from there: it does not keep the trust fresh as time goes by. Other
// documents stored later count from their own time.
func TestTrustAgeOfADocumentDatedAhead(t *testing.T) {
	start := time.Now().Round(time.Second)
	var now atomic.Pointer[scanner.Trust]
	now.Store(signedTrust(t, start.Add(365*24*time.Hour)))
	wall := start
	clock := gate.NewClock(start.Add(-time.Hour))
	clock.Synced = func() bool { return true }
	clock.Wall = func() time.Time { return wall }
	fresh := freshener(&now, clock)
	first := fresh().FreshAt
	wall = start.Add(72 * time.Hour)
	if got := fresh().FreshAt; !got.Equal(first) || !first.Equal(start) {
		t.Errorf("72 hours on, no new document: FreshAt %v, first %v; want it kept at the first trusted reading %v", got, first, start)
	}
	newer := signedTrust(t, start.Add(71*time.Hour))
	now.Store(newer)
	if got := fresh().FreshAt; !got.Equal(start.Add(71 * time.Hour)) {
		t.Errorf("after newer documents: FreshAt %v, want their time", got)
	}
}

// Calls at once never move FreshAt back.
func TestFreshenerConcurrent(t *testing.T) {
	var now atomic.Pointer[scanner.Trust]
	now.Store(signedTrust(t, time.Now()))
	clock := gate.NewClock(time.Now().Add(-14 * 24 * time.Hour)) // untrusted: FreshAt follows the floor
	fresh := freshener(&now, clock)
	var wg sync.WaitGroup
	var back atomic.Bool
	for range 4 {
		wg.Go(func() {
			for range 5000 {
				f := fresh().FreshAt
				if now.Load().FreshAt.Before(f) {
					back.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if back.Load() {
		t.Error("the trust held had a FreshAt behind one a finished call returned")
	}
}

// A gate started by a build newer than its log's floor, with no trusted
// time, sees no one, then loses power: the next run starts from a floor
// at most floorInterval behind the time the gate had reached, not from
// the build time again (docs/gate.md, "Time": "a gate that saw no one for
// a day and then lost power still starts from a floor at most 5 minutes
// old").
func TestFloorKeptFromTheBuildTime(t *testing.T) {
	cfg, _, dataDir, hub := stdinConfigHub(t, "")
	// The log's floor and the build time lie ahead of this machine's
	// clock, so that it is never trusted (below the floor).
	floor := time.Now().Add(30 * 24 * time.Hour).UTC()
	build := floor.Add(30 * 24 * time.Hour)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dataDir, logFile)
	l, err := store.OpenLog(path, store.LogOptions{Hub: hub.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.RaiseTimeFloor(floor); err != nil {
		t.Fatal(err)
	}
	l.Close()
	oldBuild, oldEvery := buildTime, floorInterval
	buildTime, floorInterval = func() time.Time { return build }, 5*time.Millisecond
	defer func() { buildTime, floorInterval = oldBuild, oldEvery }()

	in, w := io.Pipe() // an input that stays quiet
	defer w.Close()
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = in, io.Discard, io.Discard
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	began := time.Now()
	go func() { done <- m.Run(ctx, []string{"run", "-config", cfg}) }()
	// The gate runs (its control socket is there), no one comes.
	sock := filepath.Join(dataDir, controlFile)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no control socket at %s", sock)
		}
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run exited %d", code)
	}
	ran := time.Since(began)

	l, err = store.OpenLog(path, store.LogOptions{Hub: hub.Public()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if f := l.TimeFloor(); f.Before(build) || f.After(build.Add(ran)) {
		t.Fatalf("after %v of running from the build time %v, the log's floor is %v: the next run starts from the build time again", ran, build, f)
	}
}

// A policy with emergency = true puts the gate in emergency mode as the
// switch does (scanner status says so); the daemon says so at start too,
// as it does for the switch.
func TestRunSaysPolicyEmergencyAtStart(t *testing.T) {
	cfg, _, _ := stdinConfig(t, "[policy]\nemergency = true\n")
	r := runMain(t, time.Now(), "run", "-config", cfg)
	if r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "emergency mode is on (the policy's emergency = true)") {
		t.Errorf("a gate whose policy has emergency = true started without saying so:\n%s", r.stderr)
	}
}
