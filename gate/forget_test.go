package gate

import (
	"testing"
	"time"

	"github.com/checkpointgate/checkpoint/scanner"
)

// The pass of a last read is dropped once no override can reverse it; a
// read still in the window keeps it, and the forgetting is due again for
// it.
func TestForgetPasses(t *testing.T) {
	mono := 10 * time.Minute
	c := NewClock(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	c.Monotonic = func() time.Duration { return mono }
	g := &Gate{Clock: c, last: map[string]lastRead{
		"old":   {at: mono - OverrideWindow - time.Second, pass: &scanner.Pass{ID: []byte("a")}, seq: 1},
		"fresh": {at: mono - OverrideWindow, pass: &scanner.Pass{ID: []byte("b")}, seq: 2},
	}}
	g.forgetPasses()
	if l := g.last["old"]; l.pass != nil || l.seq != 1 {
		t.Errorf("a read past the window: %+v, want its pass dropped and the rest kept", l)
	}
	if l := g.last["fresh"]; l.pass == nil || !g.forgetTimer {
		t.Errorf("a read in the window: pass kept %v, forgetting due again %v", l.pass != nil, g.forgetTimer)
	}
	mono += time.Second
	g.forgetPasses()
	if l := g.last["fresh"]; l.pass != nil || g.forgetTimer {
		t.Errorf("past the window: pass kept %v, forgetting due again %v", l.pass != nil, g.forgetTimer)
	}
}
