package server

import (
	"runtime"
	"runtime/debug"

	"k8s.io/apimachinery/pkg/version"
)

// The Kubernetes version regis serves, and the one before it (upstream's
// minimum compatibility version is the previous minor).
const (
	kubeMajor, kubeMinor = "1", "37"
	kubePatch            = "2"
	prevMinor            = "36"
)

// Version is what /version reports: kube-apiserver's fields for the
// Kubernetes version regis serves, with "+regis" as semver build metadata
// (as k3s's "+k3s1"), so that semver libraries (Helm's kubeVersion
// constraints) read a release, not a prerelease; the commit, tree state
// and build date are those of the binary's VCS stamp.
func Version() version.Info {
	v := version.Info{
		Major: kubeMajor, Minor: kubeMinor,
		EmulationMajor: kubeMajor, EmulationMinor: kubeMinor,
		MinCompatibilityMajor: kubeMajor, MinCompatibilityMinor: prevMinor,
		GitVersion: "v" + kubeMajor + "." + kubeMinor + "." + kubePatch + "+regis",
		BuildDate:  "1970-01-01T00:00:00Z", // upstream's when unstamped
		GoVersion:  runtime.Version(),
		Compiler:   runtime.Compiler,
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.GitCommit = s.Value
			case "vcs.modified": // upstream's values; "" when unstamped
				v.GitTreeState = "clean"
				if s.Value == "true" {
					v.GitTreeState = "dirty"
				}
			case "vcs.time":
				v.BuildDate = s.Value
			}
		}
	}
	return v
}
