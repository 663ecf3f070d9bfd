package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/internal/syncbuf"
	"github.com/checkpointgate/checkpoint/scanner"
	"github.com/checkpointgate/checkpoint/seal"
	"github.com/checkpointgate/checkpoint/store"
)

// A gatekeeper's override and a live status, through the running daemon's
// control socket; hostile requests are refused and change nothing.
func TestOverrideAndLiveStatus(t *testing.T) {
	skipWithoutControl(t)
	cfg, key, dataDir, hub := stdinConfigHub(t, "")
	pass := strings.TrimSpace(runMain(t, time.Now(), "issue", "-key", key).stdout)

	d := startDaemon(t, cfg)
	cmd, stdin, stderr, next := d.cmd, d.stdin, d.stderr, d.next
	fmt.Fprintln(stdin, pass)
	read := next()
	if read["allow"] != true || read["logged"] != true {
		t.Fatalf("the pass: %v", read)
	}

	// A read that cannot be reversed so: refused, nothing done.
	seq := fmt.Sprint(read["seq"])
	if r := runMain(t, time.Now(), "override", "-config", cfg, "-allow", "-read", seq, "-reason", "x"); r.code == 0 || !strings.Contains(r.stderr, "read "+seq+" was let through already") {
		t.Fatalf("override -allow of an allowed read: %d %q", r.code, r.stderr)
	}

	// Status names the read to reverse, and how.
	if r := runMain(t, time.Now(), "status", "-config", cfg); !strings.Contains(r.stdout, "last read at stdin-1") ||
		!strings.Contains(r.stdout, "allowed (ok); override -input stdin-1 -read "+seq+" reverses it") {
		t.Errorf("status before the override: %d %s", r.code, r.stdout)
	}

	reasons := []string{"checked by phone with the household", "delivery, 3-402 said yes"}
	for i, o := range []struct {
		flag  string
		allow bool
	}{{"-deny", false}, {"-allow", true}} {
		var r run
		if i == 0 {
			r = runMain(t, time.Now(), "override", "-config", cfg, o.flag, "-read", seq, "-reason", reasons[i])
		} else {
			// The reason from stdin, off the command line.
			var out, errb bytes.Buffer
			m := NewMain()
			m.Stdin, m.Stdout, m.Stderr = strings.NewReader(reasons[i]+"\n"), &out, &errb
			r = run{m.Run(context.Background(), []string{"override", "-config", cfg, o.flag, "-reason", "-"}), out.String(), errb.String()}
		}
		if r.code != 0 {
			t.Fatalf("override %s: %d %s", o.flag, r.code, r.stderr)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("override %s printed %q", o.flag, r.stdout)
		}
		daemon := next()
		// The first keeps back the holder the read just let through: it
		// reverses that read. The second names none.
		overrides := map[bool]any{true: read["seq"], false: nil}[i == 0]
		for _, v := range []map[string]any{got, daemon} {
			if v["allow"] != o.allow || v["override"] != true || v["logged"] != true || v["reason"] != "override" || v["input"] != "stdin-1" || v["overrides"] != overrides {
				t.Errorf("override %s: %v, want overrides %v", o.flag, v, overrides)
			}
		}
		if strings.Contains(r.stdout, reasons[i]) {
			t.Errorf("the reason is printed: %s", r.stdout)
		}
	}

	// Refused by the command itself.
	for _, args := range [][]string{
		{"-allow"},                                   // no reason
		{"-allow", "-deny", "-reason", "x"},          // both
		{"-reason", "x"},                             // neither
		{"-allow", "-reason", "a\x1bb"},              // a control character
		{"-allow", "-reason", "x", "-input", "nope"}, // no such input
	} {
		r := runMain(t, time.Now(), append([]string{"override", "-config", cfg}, args...)...)
		if r.code != exitError || r.stdout != "" {
			t.Errorf("override %q: exit %d, %q", args, r.code, r.stdout)
		}
		if args[len(args)-1] == "nope" && !strings.Contains(r.stderr, "stdin-1") {
			t.Errorf("unknown input: the error does not name the inputs: %s", r.stderr)
		}
	}
	// Refused by the daemon: raw requests on the socket.
	c, err := LoadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sock := c.controlSocket()
	for _, req := range []string{
		"",
		"garbage",
		`{"op":"override"`,
		`{"op":"status","extra":1}`,
		`{"op":"shutdown"}`,
		`{"op":"override","input":"stdin-1","reason":"no allow"}`,
		`{"op":"override","input":"stdin-1","allow":"yes","reason":"x"}`,
		`{"op":"override","input":"stdin-1","allow":true,"reason":""}`,
		`{"op":"override","input":"stdin-1","allow":true,"reason":"` + strings.Repeat("x", 201) + `"}`,
		`{"op":"override","input":"stdin-1","allow":true,"reason":"` + strings.Repeat("x", maxControlRequest) + `"}`,
		`[1,2,3]`,
	} {
		if resp := rawAsk(t, sock, req); resp.Error == "" || resp.Decision != nil || resp.Status != nil {
			t.Errorf("request %.60q: %+v", req, resp)
		}
	}

	// Live status: the daemon's counters and its open files.
	r := runMain(t, time.Now(), "status", "-config", cfg, "-json")
	if r.code != 0 {
		t.Fatalf("status: %d %s", r.code, r.stderr)
	}
	var rep statusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if g := rep.Gate; g == nil || g.Decisions != 3 || g.Allowed != 2 || g.Denied != 1 || len(g.Inputs) != 1 {
		t.Fatalf("live status: %+v", rep.Gate)
	}
	if g := rep.Gate; len(g.LastReads) != 0 { // the read was reversed: nothing to name
		t.Errorf("live status: last reads %+v", g.LastReads)
	}
	// trust_system_clock = true: the gate's time is this machine's.
	if g := rep.Gate; !g.TimeTrusted || time.Since(g.Time).Abs() > time.Minute || g.StateMovePending {
		t.Errorf("live status: gate time %v, trusted %v, state move pending %v", g.Time, g.TimeTrusted, g.StateMovePending)
	}
	if rep.Log.Pending != 3 {
		t.Errorf("live status: %d pending, want 3", rep.Log.Pending)
	}
	if r := runMain(t, time.Now(), "status", "-config", cfg); r.code != 0 || !strings.Contains(r.stdout, "decisions") || !strings.Contains(r.stdout, "gate time") {
		t.Errorf("status: %d %s", r.code, r.stdout)
	}

	// The input ends: the daemon exits 0, removing its socket.
	stdin.Close()
	waitExit(t, cmd, 20*time.Second, "its input ended")
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the control socket is left behind: %v", err)
	}
	for _, reason := range reasons {
		if strings.Contains(stderr.String(), reason) {
			t.Errorf("the daemon logged an override's reason")
		}
	}
	// Offline status now reads the files.
	if r := runMain(t, time.Now(), "status", "-config", cfg, "-json"); r.code != 0 || strings.Contains(r.stdout, `"gate"`) {
		t.Errorf("offline status: %d %s %s", r.code, r.stdout, r.stderr)
	}
	l, err := store.OpenLog(filepath.Join(dataDir, logFile), store.LogOptions{Hub: c.hubSeal, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The hub reads each override with its reason; the pass has none.
	sealed, err := l.Pending(0, 10)
	if err != nil || len(sealed) != 3 {
		t.Fatalf("%d events in the log, want 3 (the pass and two overrides): %v", len(sealed), err)
	}
	opener := seal.NewOpener(hub)
	for i, ev := range sealed {
		b, err := opener.Open(ev.Header, ev.Seq, ev.Box)
		if err != nil {
			t.Fatal(err)
		}
		var e scanner.Event
		if err := e.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		want := ""
		if i > 0 {
			want = reasons[i-1]
		}
		if e.Override != want || e.Allow != (i != 1) {
			t.Errorf("event %d: override %q allow %v; want %q", ev.Seq, e.Override, e.Allow, want)
		}
	}
}

// daemon is `scanner run` in a child process, reading stdin.
type daemon struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *syncbuf.Buffer
	lines  *bufio.Reader
	t      *testing.T
}

// logged waits until the daemon's log holds text.
func (d *daemon) logged(text string) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(d.stderr.String(), text) {
		if time.Now().After(deadline) {
			d.t.Fatalf("the daemon never logged %q:\n%s", text, d.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startDaemon(t *testing.T, cfg string) *daemon {
	t.Helper()
	d := &daemon{cmd: childMain("run", "-config", cfg), stderr: new(syncbuf.Buffer), t: t}
	d.stdin, _ = d.cmd.StdinPipe()
	stdout, _ := d.cmd.StdoutPipe()
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.cmd.Process.Kill() })
	d.lines = bufio.NewReader(stdout)
	return d
}

// ready waits until the daemon answers on its control socket.
func (d *daemon) ready(cfg string) {
	d.t.Helper()
	c, err := LoadConfig(cfg)
	if err != nil {
		d.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := askDaemon(c.controlSocket(), controlRequest{Op: "status"})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the daemon never answered: %v\n%s", err, d.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// next reads the daemon's next decision line.
func (d *daemon) next() map[string]any {
	d.t.Helper()
	line, err := d.lines.ReadString('\n')
	if err != nil {
		d.t.Fatalf("no decision line from the daemon: %v\n%s", err, d.stderr.String())
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		d.t.Fatalf("decision line %q: %v", line, err)
	}
	return v
}

// childMain runs this test binary as the scanner in a child process (under
// the same emulator when the tests run under qemu-user).
func childMain(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	if q := os.Getenv("CHECKPOINT_QEMU_EXEC"); q != "" {
		cmd = exec.Command(q, append([]string{os.Args[0]}, args...)...)
	}
	cmd.Env = append(os.Environ(), "CHECKPOINT_TEST_MAIN=1")
	return cmd
}

// rawAsk sends req as it is and reads the answer.
func rawAsk(t *testing.T, sock, req string) controlResponse {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	c.(*net.UnixConn).CloseWrite()
	var resp controlResponse
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		t.Fatalf("request %.60q: no answer: %v", req, err)
	}
	return resp
}

func skipWithoutControl(t *testing.T) {
	t.Helper()
	if err := controlSupported(); err != nil {
		t.Skip(err)
	}
}

// The socket asks the kernel who connected, and refuses users it does not
// allow.
func TestControlRefusesOtherUsers(t *testing.T) {
	skipWithoutControl(t)
	sock := filepath.Join(t.TempDir(), "c.sock")
	ln, err := listenControl(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v", fi.Mode(), err)
	}
	seen := make(chan int, 1)
	s := &controlServer{
		ln: ln, logger: slog.New(slog.DiscardHandler),
		allowedUID: func(uid int) bool { seen <- uid; return false },
		status:     func() (*statusReport, error) { t.Error("a refused user got the status"); return nil, nil },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.serve(ctx) }()
	if _, err := askDaemon(sock, controlRequest{Op: "status"}); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("refused user: %v", err)
	}
	if uid := <-seen; uid != os.Getuid() {
		t.Errorf("the peer is uid %d, this process is %d", uid, os.Getuid())
	}
	cancel()
	<-done
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left after serve: %v", err)
	}
}

// What may stand where the socket goes: a stale socket is replaced; a live
// one, a file, a folder or a link is not; nor is a folder others can write.
func TestControlSocketPlace(t *testing.T) {
	skipWithoutControl(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "c.sock")
	ln, err := listenControl(sock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listenControl(sock); err == nil || !strings.Contains(err.Error(), "another gate daemon") {
		t.Errorf("over a live socket: %v", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if ln, err = listenControl(sock); err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	ln.Close()
	for name, put := range map[string]func(string) error{
		"file":   func(p string) error { return os.WriteFile(p, []byte("x"), 0o600) },
		"folder": func(p string) error { return os.Mkdir(p, 0o700) },
		"link":   func(p string) error { return os.Symlink(filepath.Join(dir, "elsewhere"), p) },
	} {
		p := filepath.Join(dir, name+".sock")
		if err := put(p); err != nil {
			t.Fatal(err)
		}
		if ln, err := listenControl(p); err == nil {
			ln.Close()
			t.Errorf("listened over a %s", name)
		}
	}
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		open := filepath.Join(dir, fmt.Sprintf("open%o", mode))
		os.Mkdir(open, 0o700)
		os.Chmod(open, mode)
		if ln, err := listenControl(filepath.Join(open, "c.sock")); err == nil {
			ln.Close()
			t.Errorf("listened in a folder of mode %o", mode)
		}
	}
	if os.Getuid() == 0 {
		theirs := filepath.Join(dir, "theirs")
		os.Mkdir(theirs, 0o700)
		os.Chown(theirs, 65534, 65534)
		if ln, err := listenControl(filepath.Join(theirs, "c.sock")); err == nil {
			ln.Close()
			t.Error("listened in another user's folder")
		}
	}
}

// serveStatusOnly serves a control socket that answers status alone, until
// the test ends, and returns its path.
func serveStatusOnly(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "c.sock")
	ln, err := listenControl(sock)
	if err != nil {
		t.Fatal(err)
	}
	s := &controlServer{
		ln: ln, logger: slog.New(slog.DiscardHandler), allowedUID: sameUserOrRoot,
		status: func() (*statusReport, error) { return &statusReport{Site: "main"}, nil },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return sock
}

// Connections past the limit are told the daemon is busy, and served once
// a slot is free; a client gets the daemon's refusal, not a broken pipe.
func TestControlBusy(t *testing.T) {
	skipWithoutControl(t)
	sock := serveStatusOnly(t)
	var idle []net.Conn
	for range controlConns {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	// The idle ones hold every slot once the server accepted them.
	deadline := time.Now().Add(10 * time.Second)
	for {
		// A long request too: the refusal is read, not a broken pipe.
		_, err := askDaemon(sock, controlRequest{Op: "status", Reason: strings.Repeat("x", 3000)})
		if err != nil && strings.Contains(err.Error(), "busy") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never busy with %d idle connections: %v", controlConns, err)
		}
		time.Sleep(time.Millisecond)
	}
	for _, c := range idle {
		c.Close()
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		resp, err := askDaemon(sock, controlRequest{Op: "status"})
		if err == nil && resp.Status != nil && resp.Status.Site == "main" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused after the idle connections closed: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// A flood of connections past the limit holds a bounded number of the
// daemon's descriptors: past the refusals in flight, a connection is
// closed unanswered at once.
func TestControlFloodClosedAtOnce(t *testing.T) {
	skipWithoutControl(t)
	sock := serveStatusOnly(t)
	// Connections are accepted in turn: the first hold the slots, the
	// next the refusals (each waits up to a second for its request), and
	// the last finds both full.
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for range controlConns + controlRefusals + 1 {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	// It asks at once: a refusal would answer it "busy". (Its write fails
	// when the daemon has closed it already.)
	last := idle[len(idle)-1]
	last.SetDeadline(time.Now().Add(10 * time.Second))
	json.NewEncoder(last).Encode(controlRequest{Op: "status"})
	if b, err := io.ReadAll(last); len(b) != 0 {
		t.Errorf("a connection past the slots and the refusals: read %q, %v; want it closed unanswered", b, err)
	}
}

func TestSameUserOrRoot(t *testing.T) {
	other := os.Getuid() + 1000
	if other == 0 {
		other++
	}
	if !sameUserOrRoot(os.Getuid()) || !sameUserOrRoot(0) || sameUserOrRoot(other) {
		t.Errorf("uid %d allowed %v, root %v, uid %d %v", os.Getuid(), sameUserOrRoot(os.Getuid()), sameUserOrRoot(0), other, sameUserOrRoot(other))
	}
}

// A control socket that cannot be made (here: a path too long for a Unix
// socket) leaves the gate working: it decides and exits as before.
func TestRunWithoutControlSocket(t *testing.T) {
	long := "/tmp/" + strings.Repeat("x", 120) + "/control.sock"
	cfg, key, _ := stdinConfig(t, fmt.Sprintf("control_socket = %q", long))
	pass := strings.TrimSpace(runMain(t, time.Now(), "issue", "-key", key).stdout)
	var out, errb bytes.Buffer
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(pass+"\n"), &out, &errb
	if code := m.Run(context.Background(), []string{"run", "-config", cfg}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"allow":true`) || !strings.Contains(errb.String(), "no control socket") {
		t.Errorf("stdout %q\nstderr %q", out.String(), errb.String())
	}
}

func TestCheckReason(t *testing.T) {
	for _, r := range []string{"delivery", "送货\u3000已电话确认", "Mr\u00a0Li's parcel", strings.Repeat("é", maxReason)} {
		if err := checkReason(r); err != nil {
			t.Errorf("%q refused: %v", r, err)
		}
	}
	for _, r := range []string{"", "   ", "a\nb", "a\x1b[2Jb", "abc\u202eevil", strings.Repeat("x", maxReason+1), "bad \xff utf8"} {
		if err := checkReason(r); err == nil {
			t.Errorf("%q accepted", r)
		}
	}
}

// Emergency mode switched at the running gate opens every exit, is logged
// as such, survives a restart, and is switched off again.
func TestEmergencySwitch(t *testing.T) {
	skipWithoutControl(t)
	cfg, key, dataDir := stdinConfig(t, "")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(b, []byte(`direction = "entry"`), []byte(`direction = "exit"`), 1), 0o644)
	red := func() string {
		return strings.TrimSpace(runMain(t, time.Now(), "issue", "-key", key, "-status", "red").stdout)
	}
	// daemon starts the gate, reads each pass and returns the decisions.
	daemon := func(passes ...string) []map[string]any {
		t.Helper()
		d := startDaemon(t, cfg)
		var out []map[string]any
		for _, p := range passes {
			if p == "on" || p == "off" {
				if r := runMain(t, time.Now(), "emergency", "-config", cfg, p); r.code != 0 || !strings.Contains(r.stdout, "emergency mode "+p) {
					t.Fatalf("emergency %s: %d %s %s", p, r.code, r.stdout, r.stderr)
				}
				continue
			}
			fmt.Fprintln(d.stdin, p)
			out = append(out, d.next())
		}
		d.stdin.Close()
		if err := d.cmd.Wait(); err != nil {
			t.Fatalf("exit: %v\n%s", err, d.stderr.String())
		}
		return out
	}
	check := func(v map[string]any, allow bool, reason string) {
		t.Helper()
		if v["allow"] != allow || v["reason"] != reason || v["logged"] != true {
			t.Errorf("decision %v; want allow %v, %s", v, allow, reason)
		}
	}
	got := daemon(red(), "on", red())
	check(got[0], false, "status_red")
	check(got[1], true, "emergency")
	if r := runMain(t, time.Now(), "status", "-config", cfg); !strings.Contains(r.stdout, "EMERGENCY MODE") {
		t.Errorf("offline status does not say emergency mode is on: %s", r.stdout)
	}
	// Restarted: still on, until switched off.
	got = daemon(red(), "off", red())
	check(got[0], true, "emergency")
	check(got[1], false, "status_red")
	if b, err := os.ReadFile(filepath.Join(dataDir, emergencyFile)); err != nil || string(b) != "off\n" {
		t.Errorf("switch file: %q %v", b, err)
	}
	// Flags go first.
	for _, args := range [][]string{{}, {"maybe"}, {"on", "off"}} {
		if r := runMain(t, time.Now(), append([]string{"emergency", "-config", cfg}, args...)...); r.code != exitError {
			t.Errorf("emergency %q: exit %d", args, r.code)
		}
	}
	// Not running: the switch is written for the next start.
	if r := runMain(t, time.Now(), "emergency", "-config", cfg, "on"); r.code != 0 || !strings.Contains(r.stdout, "when it starts") {
		t.Errorf("emergency with no gate: %d %s %s", r.code, r.stdout, r.stderr)
	}
	got = daemon(red())
	check(got[0], true, "emergency")
	// A damaged switch file: taken as off, said loudly, the gate runs on.
	os.WriteFile(filepath.Join(dataDir, emergencyFile), []byte("perhaps"), 0o600)
	var out, errb bytes.Buffer
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(red()+"\n"), &out, &errb
	if code := m.Run(context.Background(), []string{"run", "-config", cfg}); code != 0 ||
		!strings.Contains(out.String(), `"reason":"status_red"`) || !strings.Contains(errb.String(), "emergency switch unreadable") {
		t.Errorf("damaged switch: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if r := runMain(t, time.Now(), "status", "-config", cfg); r.code != 0 || !strings.Contains(r.stdout, "not on or off") {
		t.Errorf("status with a damaged switch: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// "ON" in capitals is on.
	os.WriteFile(filepath.Join(dataDir, emergencyFile), []byte("ON\n"), 0o600)
	if r := runMain(t, time.Now(), "status", "-config", cfg, "-json"); !strings.Contains(r.stdout, `"switch": true`) {
		t.Errorf("status with ON: %s", r.stdout)
	}
}

// A policy in emergency mode stays so when the switch goes off, and says so.
func TestEmergencyByPolicy(t *testing.T) {
	skipWithoutControl(t)
	cfg, _, _ := stdinConfig(t, "[policy]\nemergency = true\n")
	d := startDaemon(t, cfg)
	d.ready(cfg)
	r := runMain(t, time.Now(), "emergency", "-config", cfg, "off")
	if r.code != 0 || !strings.Contains(r.stdout, "stays on") {
		t.Errorf("emergency off under an emergency policy: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, time.Now(), "status", "-config", cfg, "-json")
	var rep statusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.Emergency.Policy || rep.Emergency.Switch {
		t.Errorf("status: %+v %v", rep.Emergency, err)
	}
	d.stdin.Close()
	d.cmd.Wait()
}

// The switch works at once even when the disk will not keep it, and says so.
func TestEmergencySwitchUnwritable(t *testing.T) {
	dir := t.TempDir()
	// A folder where the file should be: the rename cannot replace it.
	os.MkdirAll(filepath.Join(dir, emergencyFile, "x"), 0o700)
	e := loadEmergency(dir)
	if e.On() || e.Problem() == "" {
		t.Fatalf("a folder as the switch: on %v, problem %q", e.On(), e.Problem())
	}
	if err := e.Set(true); err == nil {
		t.Fatal("Set kept the switch over a folder")
	}
	if !e.On() || !strings.Contains(e.Problem(), "not kept") {
		t.Fatalf("after a failed write: on %v, problem %q", e.On(), e.Problem())
	}
	os.RemoveAll(filepath.Join(dir, emergencyFile))
	if err := e.Set(false); err != nil || e.On() || e.Problem() != "" {
		t.Fatalf("after a good write: %v, on %v, problem %q", err, e.On(), e.Problem())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d files, want only the switch (no temp files left)", len(entries))
	}
}

// The switch file is judged whole: "on" with anything after it, however
// far on, is not on, and the problem is said.
func TestEmergencySwitchReadWhole(t *testing.T) {
	dir := t.TempDir()
	for _, content := range []string{
		"on" + strings.Repeat(" ", 62) + "# switched on by mistake; meant off\n",
		"on" + strings.Repeat(" ", 100) + "x",
		"on" + strings.Repeat("\n", 70),
	} {
		os.WriteFile(filepath.Join(dir, emergencyFile), []byte(content), 0o600)
		if e := loadEmergency(dir); e.On() || e.Problem() == "" {
			t.Errorf("a switch file of %d bytes beginning with on: on %v, problem %q; want off, with the problem said", len(content), e.On(), e.Problem())
		}
	}
	os.WriteFile(filepath.Join(dir, emergencyFile), []byte(" ON \n"), 0o600)
	if e := loadEmergency(dir); !e.On() || e.Problem() != "" {
		t.Errorf("a switch file holding ON: on %v, problem %q", e.On(), e.Problem())
	}
}

// A client that connects and sends nothing does not hold up the stop: the
// wait for its request ends with the stop, and it is told why.
func TestControlIdleClientDoesNotHoldUpStop(t *testing.T) {
	skipWithoutControl(t)
	if os.Getenv("CHECKPOINT_QEMU") == "1" {
		t.Skip("signals to a child under qemu-user are not what this tests")
	}
	cfg, _, dataDir := stdinConfig(t, "")
	d := startDaemon(t, cfg)
	d.ready(cfg)
	c, err := net.Dial("unix", filepath.Join(dataDir, controlFile))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(100 * time.Millisecond) // accepted: the server waits for the request
	began := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, d.cmd, 30*time.Second, "SIGTERM")
	if took := time.Since(began); took >= controlTimeout/2 {
		t.Errorf("the gate took %v to stop, held up by a client that sent nothing", took.Round(100*time.Millisecond))
	}
	var resp controlResponse
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := json.NewDecoder(c).Decode(&resp); err != nil || !strings.Contains(resp.Error, "stopping") {
		t.Errorf("the idle client got %+v, %v; want told the gate is stopping", resp, err)
	}
}

// Two gates whose configs name one control socket: the second runs without
// one, and a command for it must not switch or open the first.
func TestControlRefusesRequestsForAnotherGate(t *testing.T) {
	skipWithoutControl(t)
	sock := filepath.Join(t.TempDir(), "shared.sock")
	extra := fmt.Sprintf("control_socket = %q", sock)
	cfgA, _, dataA := stdinConfig(t, extra)
	cfgB, _, dataB := stdinConfig(t, extra)
	a := startDaemon(t, cfgA)
	a.ready(cfgA)
	b := startDaemon(t, cfgB)
	// B holds its files once it says it runs without the socket (which A
	// holds): only then are the commands below for a running gate.
	b.logged("no control socket")

	for _, args := range [][]string{
		{"emergency", "-config", cfgB, "on"},
		{"override", "-config", cfgB, "-allow", "-reason", "checked by phone"},
		{"status", "-config", cfgB},
	} {
		r := runMain(t, time.Now(), args...)
		if r.code == 0 || !strings.Contains(r.stderr, "two gates share one control_socket") {
			t.Errorf("%s for gate B, through gate A's socket: exit %d, %q", args[0], r.code, r.stderr)
		}
	}
	resp, err := askDaemon(sock, controlRequest{Op: "status"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status.Emergency.Switch || resp.Status.Log.Pending != 0 {
		t.Errorf("gate A was switched (%v) or logged %d events", resp.Status.Emergency.Switch, resp.Status.Log.Pending)
	}
	if _, err := os.Stat(filepath.Join(dataA, emergencyFile)); err == nil {
		t.Error("gate A's switch file was written")
	}

	// Gate B stopped: its commands do what they do for any stopped gate,
	// on B's files.
	b.stdin.Close()
	waitExit(t, b.cmd, 20*time.Second, "its input ended")
	if r := runMain(t, time.Now(), "emergency", "-config", cfgB, "on"); r.code != 0 || !strings.Contains(r.stdout, "when it starts") {
		t.Errorf("emergency on for stopped gate B: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dataB, emergencyFile)); err != nil || strings.TrimSpace(string(b)) != "on" {
		t.Errorf("gate B's switch file: %q, %v", b, err)
	}
	if r := runMain(t, time.Now(), "status", "-config", cfgB); r.code != 0 {
		t.Errorf("status of stopped gate B: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dataA, emergencyFile)); err == nil {
		t.Error("gate A's switch file was written")
	}
	a.stdin.Close()
	waitExit(t, a.cmd, 20*time.Second, "its input ended")
}

// A command with a word that is not a flag (a reason of several words
// not quoted) stops reading its flags there: refused, rather than made
// without the flags after it. -read 0 names no read: refused, rather
// than an override about nobody. Nothing reaches the gate.
func TestOverrideRefusesWhatItWouldDrop(t *testing.T) {
	skipWithoutControl(t)
	cfg, key, dataDir := stdinConfig(t, "")
	pass := strings.TrimSpace(runMain(t, time.Now(), "issue", "-key", key).stdout)
	d := startDaemon(t, cfg)
	fmt.Fprintln(d.stdin, pass)
	read := d.next()
	seq := fmt.Sprint(read["seq"])
	for _, args := range [][]string{
		{"override", "-config", cfg, "-deny", "-reason", "kept", "back", "-read", seq},
		{"override", "-config", cfg, "-deny", "-read", "0", "-reason", "kept back"},
		{"status", "-config", cfg, "now", "-json"},
	} {
		if r := runMain(t, time.Now(), args...); r.code != exitError || r.stdout != "" {
			t.Errorf("%q: exit %d, %q %q", args, r.code, r.stdout, r.stderr)
		}
	}
	resp, err := askDaemon(filepath.Join(dataDir, controlFile), controlRequest{Op: "status"})
	if err != nil {
		t.Fatal(err)
	}
	if g := resp.Status.Gate; g.Decisions != 1 || len(g.LastReads) != 1 || !g.LastReads[0].Reversible {
		t.Errorf("the gate decided %d times, last reads %+v; want the read alone, still reversible", g.Decisions, g.LastReads)
	}
	d.stdin.Close()
	waitExit(t, d.cmd, 20*time.Second, "its input ended")
}

// The live status says how each input fares, from its source: here a
// reader that handed over one pass and dropped a line of noise.
func TestStatusInputHealth(t *testing.T) {
	skipWithoutControl(t)
	cfg, key, dataDir := stdinConfig(t, "")
	pass := strings.TrimSpace(runMain(t, time.Now(), "issue", "-key", key).stdout)
	d := startDaemon(t, cfg)
	fmt.Fprintf(d.stdin, "\x01\x02 noise\n%s\n", pass)
	d.next()
	resp, err := askDaemon(filepath.Join(dataDir, controlFile), controlRequest{Op: "status"})
	if err != nil {
		t.Fatal(err)
	}
	if h := resp.Status.Gate.InputHealth; len(h) != 1 || h[0].Name != "stdin-1" || h[0].Kind != "reader" || h[0].Reads != 1 || h[0].Dropped != 1 {
		t.Errorf("input health %+v, want the reader with one line read and one dropped", h)
	}
	r := runMain(t, time.Now(), "status", "-config", cfg)
	if !regexp.MustCompile(`(?m)^stdin-1 +reader +- +1 +1 +0 +0 +-$`).MatchString(r.stdout) {
		t.Errorf("text status without the input's health:\n%s", r.stdout)
	}
	d.stdin.Close()
	waitExit(t, d.cmd, 20*time.Second, "its input ended")
}

// Ctrl-C at override's reason prompt cancels the override: a line typed
// after it is not sent to the gate.
func TestOverrideInterruptedAtTheReason(t *testing.T) {
	skipWithoutControl(t)
	if os.Getenv("CHECKPOINT_QEMU") == "1" {
		t.Skip("signals to a child under qemu-user are not what this tests")
	}
	cfg, _, _ := stdinConfig(t, "")
	d := startDaemon(t, cfg)
	d.ready(cfg)
	cmd := childMain("override", "-config", cfg, "-allow", "-reason", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	time.Sleep(300 * time.Millisecond) // waiting for the reason
	cmd.Process.Signal(os.Interrupt)
	time.Sleep(300 * time.Millisecond)
	io.WriteString(stdin, "typed after Ctrl-C\n")
	stdin.Close()
	if err := cmd.Wait(); err == nil {
		t.Error("override exited 0 after Ctrl-C")
	}
	c, err := LoadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := askDaemon(c.controlSocket(), controlRequest{Op: "status"})
	if err != nil {
		t.Fatal(err)
	}
	if n := resp.Status.Gate.Decisions; n != 0 {
		t.Errorf("the gate decided %d times after an override cancelled with Ctrl-C", n)
	}
	d.stdin.Close()
	waitExit(t, d.cmd, 20*time.Second, "its input ended")
}
