// Package wait is the waiting the input loops share (the camera and the
// reader modules): a check and a sleep that end early when the caller's
// context ends or the input is closed.
package wait
