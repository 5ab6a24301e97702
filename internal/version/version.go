// Package version reports the qiandun code version recorded in manifests
// and model artifacts.
package version

import "runtime/debug"

// Version is set at link time by the Makefile (-X qiandun/internal/version.Version=...).
// When empty, String falls back to the VCS revision in the build info.
var Version = ""

// String returns the code version: the link-time version, else the VCS
// revision (with "+dirty" for a modified tree), else "dev".
func String() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}
