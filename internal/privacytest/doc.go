// Package privacytest searches text a program wrote (a log line, a JSON
// line, a file) for personal data: a pass ID, household ID or holder text,
// as it is or in the encodings that text output gives bytes (Base64 in
// its four forms, hex in both cases). It is for tests.
package privacytest
