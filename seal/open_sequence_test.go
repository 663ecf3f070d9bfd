package seal_test

import (
	"errors"
	"testing"

	"github.com/checkpointgate/checkpoint/seal"
)

// A box opens only under the sequence it was sealed as: the nonce holds
// the whole 64-bit sequence (docs/store.md, "Sealing format"), so a box
// stored under another sequence, however far, is seal.ErrOpen, and no two
// sequences of a segment share a nonce.
func TestOpenOnlyUnderItsOwnSequence(t *testing.T) {
	for _, seq := range []uint64{5, 1<<32 + 5, 1<<48 + 5} {
		s, o, _ := newPair(t, 4)
		box, seg, err := s.Seal(seq, []byte("event"))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := o.Open(seg.Header, seq, box); err != nil || string(got) != "event" {
			t.Fatalf("Open(%d) = %q, %v", seq, got, err)
		}
		for _, other := range []uint64{seq ^ 1<<32, seq ^ 1<<40, seq ^ 1<<56, seq ^ 1<<63} {
			if got, err := o.Open(seg.Header, other, box); !errors.Is(err, seal.ErrOpen) {
				t.Errorf("box sealed as %d opened as %d: %q, %v; want ErrOpen", seq, other, got, err)
			}
		}
	}
}
