//go:build oracle

// Package diff sends the same requests to regis and to a real
// kube-apiserver v1.37.2 (the oracle) and compares their answers: status
// code, reason, causes and message of errors, and normalized bodies.
// Build the oracle first (make oracle-bin), then run make oracle.
package diff

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/registest"
)

// oracleToken is the bearer token of the oracle's administrator.
const oracleToken = "oracle-admin-token"

// servers are the two servers every case is sent to.
var servers struct {
	regis, oracle *rest.Config
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	bin := os.Getenv("ORACLE_KUBE_APISERVER")
	if bin == "" {
		bin, _ = filepath.Abs("../../bin/oracle/kube-apiserver")
	}
	if _, err := os.Stat(bin); err != nil {
		fmt.Fprintf(os.Stderr, "no kube-apiserver at %s (run make oracle-bin, or set ORACLE_KUBE_APISERVER): %v\n", bin, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "oracle-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The oracle's etcd: a real etcd member, in process.
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "etcd"), UnsafeNoFsync: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd:", err)
		return 1
	}
	defer e.Close()
	oracle, stop, err := startOracle(ctx, bin, dir, e.Endpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-apiserver:", err)
		return 1
	}
	defer stop()
	servers.oracle = oracle

	srv, err := registest.Start(ctx, registest.Options{Logger: slog.New(slog.DiscardHandler),
		// As the oracle's: without a controller manager, kube-apiserver
		// has no default service accounts.
		DisableAdmissionPlugins: []string{"ServiceAccount"},
		// The oracle's token file: both see the same user (name, uid,
		// groups), as CSRs record it.
		TokenAuthFile: filepath.Join(dir, "tokens.csv"),
		// The oracle's admission configuration (cases_quota_limited_test.go).
		AdmissionControlConfigFile: filepath.Join(dir, "admission.yaml")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "regis:", err)
		return 1
	}
	defer srv.Stop()
	servers.regis = rest.CopyConfig(srv.Config())
	servers.regis.CertData, servers.regis.KeyData = nil, nil
	servers.regis.BearerToken = oracleToken
	code := m.Run()
	fmt.Printf("oracle: %d requests; %d with a status difference (code, reason, causes), %d known, %d with a body difference\n",
		tally.requests, tally.statusDiffs, tally.known, tally.bodyDiffs)
	return code
}

// startOracle starts kube-apiserver on etcdURL as a control plane without
// controllers is started (envtest's way): a token for an administrator,
// a generated serving certificate, and the ServiceAccount admission plugin
// off (no controller creates the default service accounts).
func startOracle(ctx context.Context, bin, dir, etcdURL string) (*rest.Config, func(), error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	saKey := filepath.Join(dir, "sa.key")
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(saKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "admission.yaml"), []byte(admissionConfig), 0o600); err != nil {
		return nil, nil, err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(oracleToken+",admin,admin-uid,system:masters\n"), 0o600); err != nil {
		return nil, nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, bin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+tokens,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saKey,
		"--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=Node,RBAC", // as regis: RBAC by default
		"--disable-admission-plugins=ServiceAccount",
		"--admission-control-config-file="+filepath.Join(dir, "admission.yaml"),
		// No endpoint for the kubernetes service on loopback (envtest's).
		"--endpoint-reconciler-type=none",
	)
	// The oracle dies with the test binary, even when a timeout panic
	// skips the shutdown below.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logFile, err := os.Create(filepath.Join(os.TempDir(), "oracle-kube-apiserver.log"))
	if err != nil {
		return nil, nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
	}
	cfg := &rest.Config{Host: "https://127.0.0.1:" + strconv.Itoa(port), BearerToken: oracleToken, QPS: -1,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-exited: // it failed: no need to wait
			cancel()
		case <-rctx.Done():
		}
	}()
	if err := waitReady(rctx, cfg, 90*time.Second); err != nil {
		stop()
		return nil, nil, fmt.Errorf("%w (log: %s)", err, logFile.Name())
	}
	return cfg, stop, nil
}

// waitReady polls /readyz until it answers 200.
func waitReady(ctx context.Context, cfg *rest.Config, timeout time.Duration) error {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+cfg.BearerToken)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("kube-apiserver exited (last: %v)", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready in %v (last: %v)", timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
