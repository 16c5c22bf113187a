package apiserver

import (
	"net/http"
	"testing"

	"github.com/regis-dev/regis/internal/audit"
)

func TestAuditIDHeaderCanonical(t *testing.T) {
	if got := http.CanonicalHeaderKey(audit.HeaderAuditID); got != auditIDHeader {
		t.Fatalf("auditIDHeader = %q, the canonical form of %q is %q", auditIDHeader, audit.HeaderAuditID, got)
	}
}
