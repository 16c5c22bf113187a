package etcd

import "testing"

func TestTransientStartErrors(t *testing.T) {
	for _, c := range []struct {
		msg  string
		err  any
		want bool
	}{
		{"failed to update storage version", "cannot detect storage schema version: missing term information", true},
		{"failed to update storage version", "some other failure", false},
		{"failed to update storage version", nil, false},
		{"other message", "missing term information", false},
	} {
		if got := transient(c.msg, c.err); got != c.want {
			t.Errorf("transient(%q, %v) = %v, want %v", c.msg, c.err, got, c.want)
		}
	}
}
