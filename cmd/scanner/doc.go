// Command scanner is the gate daemon and its admin subcommands.
//
// main only wires: each subcommand is a method of Main, whose Run takes the
// arguments and returns the exit code, so the whole program runs in tests
// exactly as from a shell.
//
// # Subcommands
//
//	keygen  -o PREFIX                 write PREFIX.key (0600) and PREFIX.pub
//	issue   -key PREFIX.key [flags]   print a signed pass; -png also renders its QR
//	verify  -pub PREFIX.pub (FILE | -text PASS)
//	                                  print the decision as JSON; exit 0 allowed, 1 denied, 2 error
//	decode  FILE...                   print what each QR image holds: name, tab, Go-quoted text
//	                                  (nothing after the tab when it holds no code)
//	run     -config FILE              run the gate (docs/gate.md)
//	override -config FILE (-allow | -deny) -reason TEXT [-input NAME] [-read SEQ]
//	                                  a gatekeeper's manual decision, through the running gate's control socket
//	emergency -config FILE on|off     allow every read at the gate's exits; kept across restarts
//	status  -config FILE [-json]      trust, pending events, files, checks; a running gate's counters
//
// # Exit codes
//
// 0 success (for verify: allowed), 1 denied (for override: carried out but
// not logged), 2 usage or I/O error. Errors are
// printed as "scanner: error: ..." with, where one helps, "scanner: hint: ...".
package main
