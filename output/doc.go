// Package output holds what a gate decision drives: a GPIO relay that opens
// the gate, exec and HTTP hooks that receive the decision as JSON, and JSON
// lines on a writer (stdout). Each is a gate.Output.
//
// # Bounded time
//
// No output may hold up the next read. The relay starts its pulse and
// returns; a timer ends it. Hooks queue the decision and return at once; a
// worker runs each hook call with its own timeout, and when the queue is
// full the new call is dropped and counted rather than waiting. Closing a
// hook sends what is queued; HookDrain after Close began, the call under
// way is cut off and the rest dropped and counted. JSON lines are written
// one at a time, each waiting only as long as the gate's output bound; a
// write that outlives it (stdout into a pipe nobody reads) has later lines
// dropped at once, and counted, until it ends.
//
// # What outputs see
//
// The JSON an output receives (Payload) carries the decision, never the pass
// ID, household ID or holder text: hooks and logs are outside the sealed
// event log.
package output
