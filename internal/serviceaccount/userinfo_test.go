package serviceaccount

import (
	"fmt"
	"testing"

	saapi "k8s.io/apiserver/pkg/authentication/serviceaccount"
)

// TestUserInfoAsUpstream: names, groups and extra keys equal upstream's
// (k8s.io/apiserver as the oracle, in the test only).
func TestUserInfoAsUpstream(t *testing.T) {
	for _, a := range []accountInfo{
		{Namespace: "ns", Name: "sa", UID: "u1"},
		{Namespace: "ns", Name: "sa", UID: "u1", PodName: "p", PodUID: "pu", CredentialID: "JTI=x", NodeName: "n", NodeUID: "nu"},
		{Namespace: "ns", Name: "sa", UID: "u1", PodName: "p", NodeName: "n"},
	} {
		up := (&saapi.ServiceAccountInfo{Namespace: a.Namespace, Name: a.Name, UID: a.UID, PodName: a.PodName, PodUID: a.PodUID,
			CredentialID: a.CredentialID, NodeName: a.NodeName, NodeUID: a.NodeUID}).UserInfo()
		u := a.user()
		want := fmt.Sprint(up.GetName(), up.GetUID(), up.GetGroups(), up.GetExtra())
		if got := fmt.Sprint(u.Name, u.UID, u.Groups, u.Extra); got != want {
			t.Errorf("%+v: %s, upstream %s", a, got, want)
		}
	}
	for _, name := range []string{"system:serviceaccount:ns:sa", "system:serviceaccount:ns", "system:serviceaccount:ns:sa:x",
		"system:serviceaccount:NS:sa", "system:serviceaccount::sa", "alice", "system:serviceaccount:ns:Sa"} {
		ns, sa, err := SplitUsername(name)
		uns, usa, uerr := saapi.SplitUsername(name)
		if ns != uns || sa != usa || (err == nil) != (uerr == nil) || err != nil && err.Error() != uerr.Error() {
			t.Errorf("SplitUsername(%q) = %q %q %v, upstream %q %q %v", name, ns, sa, err, uns, usa, uerr)
		}
	}
}
