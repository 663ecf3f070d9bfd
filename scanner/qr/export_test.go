package qr

// Exported for the tests in package qr_test.
var (
	RandomPass = randomPass
	Rotate90   = rotate90
)

// DefaultOrder is the order a Decoder tries strategies in.
var DefaultOrder = defaultOrder

// NewDecoderWith returns a Decoder that tries only the strategies s, in
// order.
func NewDecoderWith(s ...Strategy) *Decoder { return &Decoder{strategies: s} }
