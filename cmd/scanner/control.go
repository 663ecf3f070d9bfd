package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/checkpointgate/checkpoint/gate"
	"github.com/checkpointgate/checkpoint/output"
)

// The control socket: a Unix socket through which `scanner override` and
// `scanner status` reach the running daemon. A connection carries one JSON
// request and gets one JSON response (docs/gate.md).

const (
	controlFile = "control.sock"
	// maxControlRequest bounds a request; a longer one is refused.
	maxControlRequest = 4096
	// controlTimeout bounds one connection.
	controlTimeout = 5 * time.Second
	// controlConns bounds the connections served at once.
	controlConns = 4
	// controlRefusals bounds the connections told "busy" at once; past
	// it, a connection is closed unanswered, so that a flood of them
	// holds no more of the daemon's descriptors (which its hooks, inputs
	// and switch need) than this.
	controlRefusals = 16
	// maxReason bounds an override's reason, in characters.
	maxReason = 200
)

// controlRequest is a request to the daemon.
type controlRequest struct {
	Op     string `json:"op"`               // "status", "override" or "emergency"
	Input  string `json:"input,omitempty"`  // override: the input's name
	Allow  *bool  `json:"allow,omitempty"`  // override: open (true) or keep shut (false)
	Reason string `json:"reason,omitempty"` // override: the gatekeeper's words
	Read   uint64 `json:"read,omitempty"`   // override: the seq of the read it reverses; 0: none
	On     *bool  `json:"on,omitempty"`     // emergency: switch on (true) or off (false)
	// Gate is the data folder of the gate the client means (its config's,
	// resolved): a daemon serving another gate on the same socket path
	// refuses the request rather than act on it.
	Gate string `json:"gate,omitempty"`
}

// controlResponse is the daemon's answer: an error, or what was asked for.
type controlResponse struct {
	Error     string           `json:"error,omitempty"`
	OtherGate string           `json:"other_gate,omitempty"` // with Error: the data folder of the gate that answered, not the one asked for
	Status    *statusReport    `json:"status,omitempty"`
	Decision  *output.Payload  `json:"decision,omitempty"`
	Emergency *emergencyStatus `json:"emergency,omitempty"`
}

// controlServer serves the control socket.
type controlServer struct {
	ln     net.Listener
	gate   *gate.Gate
	inputs []gate.Input
	status func() (*statusReport, error)
	logger *slog.Logger
	// allowedUID says whether a peer's user may use the socket.
	allowedUID func(uid int) bool
	// emergency is the gate's emergency switch; nil: none.
	emergency *emergencySwitch
	// dataDir is the gate's data folder, resolved (gateID).
	dataDir string
	// policyEmergency: the policy itself is in emergency mode.
	policyEmergency bool
}

// listenControl makes the control socket at path, readable and writable by
// this user only, in a folder that no other user can write (so nobody else
// can put a socket or a link in its place). A socket file that nothing
// answers on (left by a daemon that died) is replaced; one that answers
// belongs to a running daemon and is an error, as is any other file.
func listenControl(path string) (net.Listener, error) {
	if err := controlSupported(); err != nil {
		return nil, err
	}
	if err := checkPrivateDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("control socket %s: a file that is not a socket is in the way", path)
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another gate daemon answers on it", path)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("control socket %s: cannot tell whether a daemon answers on it: %w", path, err)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// The folder is ours alone, so nobody swapped the socket meanwhile;
	// SO_PEERCRED guards it while its mode is the umask's.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

// checkPrivateDir accepts a private folder (privateDirOwner) owned by this
// user or root.
func checkPrivateDir(dir string) error {
	owner, err := privateDirOwner(dir)
	if err != nil {
		return err
	}
	if owner >= 0 && !sameUserOrRoot(owner) {
		return fmt.Errorf("folder %s belongs to user %d", dir, owner)
	}
	return nil
}

// privateDirOwner returns the owner of dir (-1 where files have none) if
// no group or other user can write it, and none can change the way to it:
// every folder above it, as named and with links resolved, is writable
// only by its owner (or sticky, as /tmp, where no one else can rename what
// is in it), and belongs to root, this user or dir's owner. Otherwise
// someone could swap the folder, or one above it, for their own and sit
// between the daemon and its commands.
func privateDirOwner(dir string) (int, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("%s is not a folder", dir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return 0, fmt.Errorf("folder %s is writable by other users (mode %v); give the socket a folder of its own", dir, fi.Mode().Perm())
	}
	owner, ok := fileOwner(fi)
	if !ok {
		owner = -1
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return 0, err
	}
	for _, p := range []string{abs, real} {
		for up := filepath.Dir(p); ; up = filepath.Dir(up) {
			fi, err := os.Lstat(up)
			if err != nil {
				return 0, err
			}
			uid, ok := fileOwner(fi)
			if ok && uid != owner && !sameUserOrRoot(uid) {
				return 0, fmt.Errorf("folder %s, above %s, belongs to user %d", up, dir, uid)
			}
			if fi.IsDir() && fi.Mode().Perm()&0o022 != 0 && fi.Mode()&os.ModeSticky == 0 {
				return 0, fmt.Errorf("folder %s, above %s, is writable by other users (mode %v)", up, dir, fi.Mode().Perm())
			}
			if up == filepath.Dir(up) {
				break
			}
		}
	}
	return owner, nil
}

// serve answers connections until ctx ends, then closes the listener (which
// removes the socket file) and waits for the connections in hand.
func (s *controlServer) serve(ctx context.Context) {
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	slots := make(chan struct{}, controlConns)
	refusing := make(chan struct{}, controlRefusals)
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				break
			}
			s.logger.Warn("control socket: accept failed", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		select {
		case slots <- struct{}{}:
		default:
			select {
			case refusing <- struct{}{}:
				wg.Go(func() {
					defer func() { <-refusing }()
					refuse(c, "busy: try again")
				})
			default:
				c.Close()
			}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			s.handle(ctx, c)
		})
	}
	s.ln.Close()
	wg.Wait()
}

func (s *controlServer) handle(ctx context.Context, c net.Conn) {
	defer c.Close()
	// The request is read within the deadline; the answer may take longer
	// (an override waits for its commit and its outputs) and gets its own.
	// A stop cuts the wait for a request short: a client that connected
	// and sent nothing does not hold up the gate's stop.
	c.SetReadDeadline(time.Now().Add(controlTimeout))
	cut := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	req, rerr := readRequest(c)
	if !cut() && rerr != nil {
		rerr = errors.New("the gate is stopping")
	}
	var resp controlResponse
	if uid, err := peerUID(c); err != nil {
		s.logger.Warn("control socket: cannot tell who is asking", "err", err)
		resp.Error = "not allowed"
	} else if !s.allowedUID(uid) {
		s.logger.Warn("control socket: refused a user", "uid", uid)
		resp.Error = "not allowed"
	} else if rerr != nil {
		resp.Error = rerr.Error()
	} else if req.Gate != "" && req.Gate != s.dataDir {
		s.logger.Warn("control socket: a request for another gate", "uid", uid)
		resp.Error = fmt.Sprintf("this socket serves the gate whose data folder is %s, not %s: two gates share one control_socket", s.dataDir, req.Gate)
		resp.OtherGate = s.dataDir
	} else {
		resp = s.answer(ctx, req, uid)
	}
	c.SetWriteDeadline(time.Now().Add(controlTimeout))
	if err := json.NewEncoder(c).Encode(resp); err != nil {
		s.logger.Warn("control socket: answer not sent", "err", err)
	}
}

// refuse reads what the client sent (so that it is not cut off while
// writing), answers msg and closes.
func refuse(c net.Conn, msg string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	readRequest(c)
	json.NewEncoder(c).Encode(controlResponse{Error: msg})
}

// readRequest reads one request of at most maxControlRequest bytes.
func readRequest(r io.Reader) (controlRequest, error) {
	var req controlRequest
	dec := json.NewDecoder(io.LimitReader(r, maxControlRequest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("bad request: one JSON object of at most %d bytes, with the fields op, input, allow, reason, read, on and gate", maxControlRequest)
	}
	return req, nil
}

// answer carries out a request.
func (s *controlServer) answer(ctx context.Context, req controlRequest, uid int) controlResponse {
	switch req.Op {
	case "status":
		rep, err := s.status()
		if err != nil {
			return controlResponse{Error: err.Error()}
		}
		return controlResponse{Status: rep}
	case "override":
		return s.override(ctx, req, uid)
	case "emergency":
		if s.emergency == nil {
			return controlResponse{Error: "this gate has no emergency switch"}
		}
		if req.On == nil {
			return controlResponse{Error: `say "on": true or false`}
		}
		// In effect at once, kept on disk if the disk allows.
		err := s.emergency.Set(*req.On)
		s.logger.Warn("emergency mode switched at the gate", "on", *req.On, "uid", uid)
		if err != nil {
			s.logger.Error("emergency switch not kept across a restart", "err", err)
		}
		resp := controlResponse{Emergency: &emergencyStatus{Switch: s.emergency.On(), Policy: s.policyEmergency, Problem: s.emergency.Problem()}}
		// The status is extra: the switch is done whether or not it comes.
		if rep, err := s.status(); err == nil {
			resp.Status = rep
		}
		return resp
	default:
		return controlResponse{Error: fmt.Sprintf("unknown op %q: status, override or emergency", clip(req.Op))}
	}
}

func (s *controlServer) override(ctx context.Context, req controlRequest, uid int) controlResponse {
	i := slices.IndexFunc(s.inputs, func(in gate.Input) bool { return in.Name == req.Input })
	if i < 0 {
		return controlResponse{Error: fmt.Sprintf("no input named %q; the inputs are: %s", clip(req.Input), strings.Join(inputNames(s.inputs), ", "))}
	}
	if req.Allow == nil {
		return controlResponse{Error: `say "allow": true to open or false to keep shut`}
	}
	if err := checkReason(req.Reason); err != nil {
		return controlResponse{Error: err.Error()}
	}
	in := s.inputs[i]
	o, err := s.gate.Override(context.WithoutCancel(ctx), in, *req.Allow, req.Reason, req.Read)
	// The reason is the gatekeeper's own words and may name someone: it
	// goes into the sealed event, not into this log.
	if err != nil {
		s.logger.Warn("manual override refused", "input", in.Name, "allow", *req.Allow, "read", req.Read, "uid", uid, "err", err)
		return controlResponse{Error: err.Error()}
	}
	s.logger.Info("manual override", "input", in.Name, "allow", *req.Allow, "read", req.Read, "uid", uid, "seq", o.Seq, "logged", o.Logged)
	p := output.NewPayload(o)
	return controlResponse{Decision: &p}
}

// checkReason accepts 1 to maxReason printable characters.
func checkReason(r string) error {
	switch {
	case strings.TrimSpace(r) == "":
		return errors.New("give a reason: it is logged with the override")
	case !utf8.ValidString(r):
		return errors.New("the reason is not UTF-8")
	case utf8.RuneCountInString(r) > maxReason:
		return fmt.Errorf("the reason is longer than %d characters", maxReason)
	case strings.IndexFunc(r, func(c rune) bool { return !unicode.IsPrint(c) && !unicode.Is(unicode.Zs, c) }) >= 0:
		// Letters, marks, numbers, punctuation, symbols and spaces (the
		// ideographic space too); no control or bidi formatting characters.
		return errors.New("the reason holds a control or formatting character")
	}
	return nil
}

// clip shortens what a request said for an error message, by characters.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func inputNames(inputs []gate.Input) []string {
	var names []string
	for _, in := range inputs {
		names = append(names, in.Name)
	}
	return names
}

// sameUserOrRoot allows this process's user and root.
func sameUserOrRoot(uid int) bool { return uid == 0 || uid == os.Getuid() }

// errNoDaemon: nothing answers on the control socket.
var errNoDaemon = errors.New("no gate daemon answers on the control socket")

// errOtherGate: the daemon on the control socket serves another gate (two
// configs name one control_socket); it did nothing.
var errOtherGate = errors.New("the control socket serves another gate")

// errNoAnswer: the request went out and no answer came back; what it did
// is unknown.
var errNoAnswer = errors.New("the gate daemon did not answer")

// askGate sends req to the gate of config cfg, on its control socket; a
// daemon there that serves another gate refuses it.
func askGate(cfg *Config, req controlRequest) (*controlResponse, error) {
	req.Gate = cfg.gateID()
	return askDaemon(cfg.controlSocket(), req)
}

// askDaemon sends req to the daemon on the control socket at path. It
// talks only to a daemon run by this user or root.
func askDaemon(path string, req controlRequest) (*controlResponse, error) {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", errNoDaemon, path, err)
	}
	defer c.Close()
	if err := checkServer(c, path); err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(controlAnswerWait))
	// Even when the write fails, the daemon may have answered (a refusal
	// sent before the whole request was read): read what it said.
	werr := json.NewEncoder(c).Encode(req)
	if uc, ok := c.(*net.UnixConn); ok && werr == nil {
		uc.CloseWrite()
	}
	var resp controlResponse
	if err := json.NewDecoder(io.LimitReader(c, 1<<20)).Decode(&resp); err != nil {
		if werr != nil {
			return nil, fmt.Errorf("control socket: %w", werr)
		}
		return nil, fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	if resp.OtherGate != "" {
		return nil, fmt.Errorf("%w: %s: the gate whose data folder is %s answers there; two gates share one control_socket", errOtherGate, path, printable(resp.OtherGate))
	}
	if resp.Error != "" {
		return nil, fmt.Errorf("the gate daemon says: %s", printable(resp.Error))
	}
	return &resp, nil
}

// checkServer accepts a daemon run by this user or root, or by the owner
// of the socket's folder when no other user can write that folder (root
// asking a daemon that runs as a service user).
func checkServer(c net.Conn, path string) error {
	uid, err := peerUID(c)
	if err != nil {
		return fmt.Errorf("control socket %s: cannot tell who serves it: %w", path, err)
	}
	if sameUserOrRoot(uid) {
		return nil
	}
	owner, err := privateDirOwner(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("control socket %s: served by user %d, in a folder that is not private: %w", path, uid, err)
	}
	if owner != uid {
		return fmt.Errorf("control socket %s: served by user %d, not this user, root or the owner of its folder", path, uid)
	}
	return nil
}

// controlAnswerWait bounds how long a client waits for an answer: an
// override waits for its commit and its outputs.
const controlAnswerWait = 30 * time.Second

// printable replaces what a terminal would act on.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) || r == ' ' {
			return r
		}
		return '?'
	}, s)
}
