package store

import (
	"log/slog"
	"time"

	"github.com/checkpointgate/checkpoint/seal"
)

// Defaults for zero option fields.
const (
	DefaultLogMaxSize   = 256 << 20
	DefaultTrustMaxSize = 64 << 20
	DefaultStateHorizon = 7 * 24 * time.Hour
)

// LogOptions configures OpenLog. Every zero field means the documented
// default, except Hub, which is required.
type LogOptions struct {
	// Hub is the hub's public key; events are sealed to it. Required.
	Hub seal.PublicKey

	// SegmentSize is how many events share one segment key
	// (0: seal.DefaultSegmentSize, 256). Every open starts a new segment.
	SegmentSize int

	// MaxSize is the file size past which Append returns ErrFull
	// (0: DefaultLogMaxSize, 256 MiB). The file may grow a little past it
	// (by MaxSize/16 + 2 MiB at most), to leave room for Ack and other
	// deletions, which must work on a full log. Keep MaxSize plus that
	// headroom well below the free space of the file system.
	MaxSize int

	// Retention keeps acknowledged events this long after the Ack before
	// they are deleted (0: deleted by the Ack itself). Retained events are
	// dropped early when the log is full. Unacknowledged events are never
	// dropped.
	Retention time.Duration

	// StateHorizon is how long gate state (last direction per pass,
	// household exits) is kept (0: DefaultStateHorizon, 7 days). It must
	// exceed every policy window that uses the state (a timed
	// anti-passback, the household-quota window).
	StateHorizon time.Duration

	// LockTimeout is how long OpenLog waits for another process holding
	// the file (0: 5 s).
	LockTimeout time.Duration

	// Now is the device clock (nil: time.Now). The store never uses a time
	// below the time floor.
	Now func() time.Time

	// Logger receives warnings about recoveries (nil: slog.Default()). The
	// store never logs personal data: it has none in the clear.
	Logger *slog.Logger
}

func (o LogOptions) withDefaults() LogOptions {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultLogMaxSize
	}
	if o.StateHorizon <= 0 {
		o.StateHorizon = DefaultStateHorizon
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = defaultLockTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// TrustOptions configures OpenTrust. Every zero field means the documented
// default.
type TrustOptions struct {
	// MaxSize is the file size past which PutDoc returns ErrFull
	// (0: DefaultTrustMaxSize, 64 MiB), with the same headroom for
	// deletions as LogOptions.MaxSize.
	MaxSize int

	// LockTimeout is how long OpenTrust waits for another process holding
	// the file (0: 5 s).
	LockTimeout time.Duration

	// Now is the device clock, used for write times (nil: time.Now).
	Now func() time.Time

	// Logger receives warnings about recoveries (nil: slog.Default()).
	Logger *slog.Logger
}

func (o TrustOptions) withDefaults() TrustOptions {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultTrustMaxSize
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = defaultLockTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// headroom is how far past MaxSize deletions may grow a file.
func headroom(maxSize int) int { return maxSize/16 + 2*allocSize }
