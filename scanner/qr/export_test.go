package qr

// Exported for the tests in package qr_test.
var (
	RandomPass = randomPass
	Rotate90   = rotate90
)
