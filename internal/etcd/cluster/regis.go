package cluster

import (
	"context"
	"crypto/tls"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Regis is a `regis serve` process on 127.0.0.1.
type Regis struct {
	*Proc
	// URL is the server's https URL (its port stays across restarts).
	URL string
	// DataDir is its --data-dir (admin.kubeconfig, certificates, and the
	// embedded etcd's data without --etcd-servers).
	DataDir string
}

// NewRegis returns a `regis serve` process with its data in dataDir on a
// free port, and, without --etcd-servers in args, its embedded etcd on
// free ports; args are added to the command line. Start it with Start
// (or StartReady).
func NewRegis(t testing.TB, name, dataDir string, args ...string) *Regis {
	t.Helper()
	port := FreePort(t)
	all := []string{"serve", "--data-dir", dataDir, "--secure-port", itoa(port),
		"--embedded-etcd-client-port", itoa(FreePort(t)), "--embedded-etcd-peer-port", itoa(FreePort(t)),
		"--log-level", "warn"}
	all = append(all, args...)
	return &Regis{
		Proc:    NewProc(t, name, filepath.Dir(dataDir), all...),
		URL:     "https://127.0.0.1:" + itoa(port),
		DataDir: dataDir,
	}
}

// StartRegis starts a `regis serve` (see NewRegis) and waits until it is
// ready.
func StartRegis(t testing.TB, name, dataDir string, args ...string) *Regis {
	t.Helper()
	r := NewRegis(t, name, dataDir, args...)
	r.StartReady(t, 90*time.Second)
	return r
}

// StartReady starts the process and waits up to timeout until /readyz
// answers 200; it returns the time from start to ready.
func (r *Regis) StartReady(t testing.TB, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	r.Start(t)
	r.WaitReady(t, timeout)
	return time.Since(start)
}

// WaitReady waits up to timeout until /readyz answers 200.
func (r *Regis) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if code, err := r.Readyz(); err == nil && code == http.StatusOK {
			return
		}
		if !r.Running() {
			t.Fatalf("%s exited before ready: %s", r.Name, r.Tail(4096))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %v", r.Name, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Readyz returns the status code of GET /readyz (anonymous, as a load
// balancer probes it), within 5 s.
func (r *Regis) Readyz() (int, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a probe of a test server on loopback
	}}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/readyz", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Kubeconfig is the admin kubeconfig the server wrote.
func (r *Regis) Kubeconfig() string { return filepath.Join(r.DataDir, "admin.kubeconfig") }

// Config returns the admin *rest.Config (no client-side rate limit).
func (r *Regis) Config(t testing.TB) *rest.Config {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", r.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	rc.QPS, rc.Burst = -1, 0
	rc.Host = r.URL
	return rc
}

// Clientset returns an admin clientset of the server.
func (r *Regis) Clientset(t testing.TB) *kubernetes.Clientset {
	t.Helper()
	return kubernetes.NewForConfigOrDie(r.Config(t))
}
