//go:build !killpoints

package durable

// killpoint marks a publication step (a sync, a rename, a pointer or link
// swap). In a build with the killpoints tag the crash-test harness can kill
// the process at any one of them, or make one fail as a full disk would
// (killpoint_on.go); otherwise it is free and never fails.
func killpoint(string) error { return nil }
