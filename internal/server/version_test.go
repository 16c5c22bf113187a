package server_test

import (
	"testing"

	utilversion "k8s.io/apimachinery/pkg/util/version"

	"github.com/regis-dev/regis/internal/server"
)

// /version reads as the release v1.37.2 to semver libraries (a chart's
// kubeVersion ">=1.25.0" must accept it): "+regis" is build metadata, not
// a prerelease; the emulation and compatibility fields are upstream's.
func TestVersionIsARelease(t *testing.T) {
	v := server.Version()
	sv, err := utilversion.ParseSemantic(v.GitVersion)
	if err != nil {
		t.Fatal(err)
	}
	if sv.PreRelease() != "" || sv.String() != "1.37.2+regis" || !sv.AtLeast(utilversion.MustParseSemantic("v1.25.0")) {
		t.Errorf("gitVersion %q: %s, prerelease %q", v.GitVersion, sv, sv.PreRelease())
	}
	if v.Major != "1" || v.Minor != "37" || v.EmulationMajor != "1" || v.EmulationMinor != "37" ||
		v.MinCompatibilityMajor != "1" || v.MinCompatibilityMinor != "36" {
		t.Errorf("version %+v", v)
	}
}
