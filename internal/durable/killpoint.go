//go:build !killpoints

package durable

// killpoint marks a publication step (a sync, a rename, a pointer or link
// swap). In a build with the killpoints tag the crash-test harness can kill
// the process at any one of them (killpoint_on.go); otherwise it is free.
func killpoint(string) {}
