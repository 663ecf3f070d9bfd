package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/checkpointgate/checkpoint/store"
)

// The commands a gatekeeper runs against the running gate, through its
// control socket (control.go): override and emergency.

// override asks the running daemon to carry out and log a gatekeeper's
// manual decision, and prints it as a JSON line. It exits 0 when the
// decision was logged, 1 when it was carried out but could not be logged.
func (m *Main) override(args []string) (int, error) {
	fs := m.flags("override")
	cfgFile := fs.String("config", "/etc/checkpoint/scanner.toml", "the running gate's config `FILE`")
	allow := fs.Bool("allow", false, "open the gate")
	deny := fs.Bool("deny", false, "keep the gate shut")
	reason := fs.String("reason", "", "why (logged with the decision, sealed like every event; at most 200 characters; - reads it from stdin)")
	input := fs.String("input", "", "the input `NAME` (the gate's only input when it has one)")
	read := fs.Uint64("read", 0, "reverse the decision on the read with this `SEQ` (its \"seq\"), the input's last, of at most 2 minutes ago, about its pass")
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	// The flags end at the first word that is not one: the words of a
	// reason not quoted, and every flag after them (-read, -input,
	// -config), would be dropped and the override made without them.
	if fs.NArg() != 0 {
		return exitError, hinted(fmt.Errorf("unexpected %q: override takes flags only", fs.Arg(0)), `quote a reason of several words: -reason "kept back, checked by phone"`)
	}
	// -read 0 names no read: the override would reverse none.
	readGiven := false
	fs.Visit(func(f *flag.Flag) { readGiven = readGiven || f.Name == "read" })
	if readGiven && *read == 0 {
		return exitError, hinted(errors.New("-read 0 names no read"), "a read that was not logged (seq 0) cannot be reversed; leave -read out for an override about nobody")
	}
	if *allow == *deny {
		return exitError, hinted(errors.New("say -allow or -deny, one of them"), "scanner override -config FILE -allow -reason \"delivery, checked by phone\"")
	}
	if *reason == "-" {
		// One line from stdin: not on the command line, where every
		// local user sees it, nor in the shell's history.
		if f, ok := m.Stdin.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				fmt.Fprint(m.Stderr, "reason: ")
			}
		}
		line, err := bufio.NewReaderSize(m.Stdin, 4*maxReason+16).ReadSlice('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			if errors.Is(err, bufio.ErrBufferFull) {
				return exitError, fmt.Errorf("the reason is longer than %d characters", maxReason)
			}
			return exitError, err
		}
		*reason = strings.TrimRight(string(line), "\r\n")
	}
	if err := checkReason(*reason); err != nil {
		return exitError, hinted(err, "-reason \"…\" says why, in a few words (-reason - reads it from stdin)")
	}
	cfg, err := loadConfig(*cfgFile, "give the config the gate runs with")
	if err != nil {
		return exitError, err
	}
	name := *input
	if name == "" {
		names := configInputNames(cfg)
		if len(names) != 1 {
			return exitError, hinted(errors.New("the gate has several inputs"), "say which with -input NAME: %s", strings.Join(names, ", "))
		}
		name = names[0]
	}
	resp, err := askGate(cfg, controlRequest{Op: "override", Input: name, Allow: allow, Reason: *reason, Read: *read})
	switch {
	case errors.Is(err, errNoDaemon):
		return exitError, hinted(err, "is the gate running (scanner run -config %s)?", *cfgFile)
	case errors.Is(err, errNoAnswer):
		return exitError, hinted(err, "the override may have been carried out: see scanner status before asking again")
	case err != nil:
		return exitError, err
	}
	if resp.Decision == nil {
		return exitError, errors.New("the gate daemon sent no decision")
	}
	if err := json.NewEncoder(m.Stdout).Encode(resp.Decision); err != nil {
		return exitError, err
	}
	if !resp.Decision.Logged {
		if resp.Decision.Allow {
			fmt.Fprintln(m.Stderr, "scanner: the gate opened but the override is not logged (on_log_failure = open; see the gate's log)")
		} else {
			fmt.Fprintln(m.Stderr, "scanner: the override is not logged and the gate stayed shut (see the gate's log)")
		}
		return exitDenied, nil
	}
	return exitOK, nil
}

func configInputNames(cfg *Config) []string {
	var names []string
	for _, in := range cfg.Inputs {
		names = append(names, in.Name)
	}
	return names
}

// emergency switches emergency mode at the running gate: on, every read at
// an exit is allowed (and still logged). With no gate running it writes the
// switch for the next start.
func (m *Main) emergency(args []string) error {
	fs := m.flags("emergency")
	cfgFile := fs.String("config", "/etc/checkpoint/scanner.toml", "the gate's config `FILE`")
	if err := parse(fs, args); err != nil {
		return err
	}
	var on bool
	switch fs.Arg(0) {
	case "on":
		on = true
	case "off":
	default:
		return hinted(errors.New("say on or off"), "scanner emergency -config FILE on")
	}
	if fs.NArg() != 1 {
		return hinted(errors.New("say on or off last, after the flags"), "scanner emergency -config FILE %s", fs.Arg(0))
	}
	cfg, err := loadConfig(*cfgFile, "give the config the gate runs with")
	if err != nil {
		return err
	}
	resp, err := askGate(cfg, controlRequest{Op: "emergency", On: &on})
	switch {
	case errors.Is(err, errOtherGate):
		fmt.Fprintf(m.Stderr, "scanner: warning: %v\n", err)
		return m.emergencyOffline(cfg, on)
	case errors.Is(err, errNoDaemon):
		return m.emergencyOffline(cfg, on)
	case errors.Is(err, errNoAnswer):
		return hinted(err, "the switch may have been made: see scanner status")
	case err != nil:
		return err
	case resp.Emergency == nil || resp.Emergency.Switch != on:
		return errors.New("the gate daemon did not confirm the switch")
	}
	if p := resp.Emergency.Problem; p != "" {
		fmt.Fprintf(m.Stderr, "scanner: warning: %s\n", printable(p))
	}
	switch {
	case on:
		fmt.Fprintln(m.Stdout, "emergency mode on: every read at an exit is allowed, and still logged")
	case resp.Emergency.Policy:
		fmt.Fprintln(m.Stdout, "emergency switch off, but emergency mode stays on: the gate's policy has emergency = true")
	default:
		fmt.Fprintln(m.Stdout, "emergency mode off: the site's rules apply again")
	}
	return nil
}

// asGateUser adds to err, when it is the store refusing root in the data
// folder of a gate that runs as another user, how to run the command
// (scanner args) instead.
func asGateUser(err error, args string) error {
	if errors.Is(err, store.ErrForeignFolder) {
		return hinted(err, "run it as the gate's user: sudo -u USER scanner %s", args)
	}
	return err
}

// emergencyOffline writes the switch for a gate that is not running; a gate
// that runs without its control socket holds the event log's lock and is
// told apart.
func (m *Main) emergencyOffline(cfg *Config, on bool) error {
	dataDir := cfg.dataDir()
	// Root does not make the data folder of a gate that never ran: it
	// would be root's, and a gate that runs as a service user could not
	// use it.
	if _, err := os.Stat(dataDir); errors.Is(err, os.ErrNotExist) && os.Geteuid() == 0 {
		return hinted(fmt.Errorf("the data folder %s does not exist: the gate has never run", dataDir),
			"start the gate, or run this as the gate's user: sudo -u USER scanner emergency -config FILE %s", onOff(on))
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return hinted(err, "data_dir must be a folder the scanner can write")
	}
	args := "emergency -config FILE " + onOff(on)
	defer holdSignals()() // until the log is closed
	events, err := store.OpenLog(filepath.Join(dataDir, logFile), store.LogOptions{Hub: cfg.hubSeal, LockTimeout: time.Second})
	if errors.Is(err, store.ErrLocked) {
		return hinted(errors.New("the gate is running but does not answer on its control socket"),
			"see the gate's log for why (\"no control socket\"); until then emergency mode is only in the config's [policy]")
	}
	if err != nil {
		return asGateUser(err, args)
	}
	defer events.Close()
	if err := writeEmergency(filepath.Join(dataDir, emergencyFile), on); err != nil {
		return asGateUser(err, args)
	}
	fmt.Fprintf(m.Stdout, "the gate is not running: emergency mode will be %s when it starts\n", onOff(on))
	return nil
}
