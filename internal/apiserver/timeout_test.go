package apiserver_test

import (
	"net/http"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A request that outlives its ?timeout= is answered 504 Timeout, as
// kube-apiserver's timeout filter answers, not 500.
func TestRequestTimeoutIs504(t *testing.T) {
	s := startUncached(t)
	cs := s.clientset(t)
	// A deadline already gone when the list reaches etcd.
	start := time.Now()
	err := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/pods").Param("timeout", "1ns").Do(t.Context()).Error()
	if !apierrors.IsTimeout(err) {
		t.Fatalf("got %v, want 504 Timeout", err)
	}
	st, ok := err.(apierrors.APIStatus)
	if !ok || st.Status().Code != http.StatusGatewayTimeout || st.Status().Reason != metav1.StatusReasonTimeout {
		t.Fatalf("status %+v", st)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}
