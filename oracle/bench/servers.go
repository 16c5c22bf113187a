package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// The servers are started as oracle/e2e/servers.go starts them (that is
// package main of another command: the few functions are repeated here),
// but each on the etcd given.

// oracleToken is the bearer token of the oracle's administrator.
const oracleToken = "bench-admin-token"

// startRegis runs `regis serve` on etcdURL, its certificates in a fresh
// data directory, on a free port, and waits until it is ready.
func startRegis(ctx context.Context, bin, dir, etcdURL string, extra []string, timeout time.Duration) (*proc, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	data := filepath.Join(dir, "data")
	logPath := filepath.Join(dir, "regis.log")
	args := append([]string{"serve",
		"--data-dir=" + data,
		"--etcd-servers=" + etcdURL,
		"--secure-port=" + strconv.Itoa(port),
		"--log-level=warn",
		// As kube-apiserver's here (which has no controller manager to
		// make service accounts): both servers store the same pods, and
		// do the same admission work.
		"--disable-admission-plugins=ServiceAccount",
	}, extra...)
	p, err := startLogged(exec.CommandContext(ctx, bin, args...), logPath)
	if err != nil {
		return nil, "", err
	}
	if err := waitReady(ctx, "https://127.0.0.1:"+strconv.Itoa(port), "", timeout); err != nil {
		p.stop()
		return nil, "", fmt.Errorf("regis: %w (log: %s)", err, logPath)
	}
	return p, filepath.Join(data, "admin.kubeconfig"), nil
}

// startOracle runs kube-apiserver on etcdURL with oracle/diff's flags and
// waits until it is ready; its kubeconfig carries a bearer token.
func startOracle(ctx context.Context, bin, dir, etcdURL string, timeout time.Duration) (*proc, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	args, err := oracleArgs(dir, etcdURL)
	if err != nil {
		return nil, "", err
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	args = append(args, "--secure-port="+strconv.Itoa(port))
	logPath := filepath.Join(dir, "kube-apiserver.log")
	p, err := startLogged(exec.CommandContext(ctx, bin, args...), logPath)
	if err != nil {
		return nil, "", err
	}
	url := "https://127.0.0.1:" + strconv.Itoa(port)
	if err := waitReady(ctx, url, oracleToken, timeout); err != nil {
		p.stop()
		return nil, "", fmt.Errorf("kube-apiserver: %w (log: %s)", err, logPath)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(tokenKubeconfig(url, oracleToken)), 0o600); err != nil {
		p.stop()
		return nil, "", err
	}
	return p, kubeconfig, nil
}

// oracleArgs are kube-apiserver's flags, those of oracle/diff/main_test.go.
func oracleArgs(dir, etcdURL string) ([]string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	saKey := filepath.Join(dir, "sa.key")
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(saKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(oracleToken+",admin,admin-uid,system:masters\n"), 0o600); err != nil {
		return nil, err
	}
	return []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--token-auth-file=" + tokens,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + saKey,
		"--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=Node,RBAC", // as regis: RBAC by default
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
	}, nil
}

// tokenKubeconfig is a kubeconfig for url with a bearer token; the
// oracle's serving certificate is self-signed, so it is not verified.
func tokenKubeconfig(url, token string) string {
	return `apiVersion: v1
kind: Config
clusters:
- name: oracle
  cluster:
    server: ` + url + `
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: ` + token + `
contexts:
- name: oracle
  context:
    cluster: oracle
    user: admin
current-context: oracle
`
}

// startLogged starts cmd with its output in logPath; it dies with this
// process.
func startLogged(cmd *exec.Cmd, logPath string) (*proc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	return &proc{pid: cmd.Process.Pid, stop: stopper(cmd, exited, logFile)}, nil
}

// stopper interrupts cmd and waits for it, killing it after 20 s.
func stopper(cmd *exec.Cmd, exited <-chan struct{}, logFile *os.File) func() {
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if logFile != nil {
			logFile.Close()
		}
	}
}

// waitReady polls url's /readyz until it answers 200.
func waitReady(ctx context.Context, url, token string, timeout time.Duration) error {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz: %s", resp.Status)
		}
		if ctx.Err() != nil {
			return ctx.Err()
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
