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

	"github.com/regis-dev/regis/internal/etcd"
)

// oracleToken is the bearer token of the oracle's administrator.
const oracleToken = "e2e-admin-token"

// server is an API server under test: where its admin kubeconfig is, and
// how to stop it.
type server struct {
	kubeconfig string
	stop       func()
}

// startRegis runs `regis serve` on a fresh data directory and free ports,
// and waits until it is ready. Its admin kubeconfig is the one regis writes
// (a client certificate of its generated CA).
func startRegis(ctx context.Context, bin, dir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "regis-data")
	cmd := exec.CommandContext(ctx, bin, "serve",
		"--data-dir="+data,
		"--secure-port="+strconv.Itoa(port),
		"--embedded-etcd-client-port=0", "--embedded-etcd-peer-port=0",
		"--log-level=warn",
		"--allow-privileged", // as upstream's e2e clusters
	)
	stop, err := startLogged(cmd, filepath.Join(dir, "regis.log"))
	if err != nil {
		return nil, err
	}
	url := "https://127.0.0.1:" + strconv.Itoa(port)
	if err := waitReady(ctx, url, "", 60*time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("regis: %w (log: %s)", err, filepath.Join(dir, "regis.log"))
	}
	return &server{kubeconfig: filepath.Join(data, "admin.kubeconfig"), stop: stop}, nil
}

// startOracle runs kube-apiserver on an etcd of its own (the embedded etcd
// of regis's internal/etcd, in this process), started as oracle/diff's
// main_test.go starts it: envtest's way, a control plane without
// controllers. Its kubeconfig carries an administrator's bearer token.
func startOracle(ctx context.Context, bin, dir string) (*server, error) {
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "etcd"), UnsafeNoFsync: true})
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	args, err := oracleArgs(dir, e.Endpoint)
	if err != nil {
		e.Close()
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		e.Close()
		return nil, err
	}
	args = append(args, "--secure-port="+strconv.Itoa(port))
	stopAPI, err := startLogged(exec.CommandContext(ctx, bin, args...), filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		e.Close()
		return nil, err
	}
	stop := func() { stopAPI(); e.Close() }
	url := "https://127.0.0.1:" + strconv.Itoa(port)
	if err := waitReady(ctx, url, oracleToken, 90*time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("kube-apiserver: %w (log: %s)", err, filepath.Join(dir, "kube-apiserver.log"))
	}
	kubeconfig := filepath.Join(dir, "oracle.kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(tokenKubeconfig(url, oracleToken)), 0o600); err != nil {
		stop()
		return nil, err
	}
	return &server{kubeconfig: kubeconfig, stop: stop}, nil
}

// oracleArgs are kube-apiserver's flags, those of oracle/diff/main_test.go:
// a token for an administrator, a generated serving certificate, service
// account keys, and the ServiceAccount admission plugin off (no controller
// creates the default service accounts).
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
		"--allow-privileged=true", // as upstream's e2e clusters
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

// startLogged starts cmd with its output in logPath; the process dies with
// this one. stop interrupts it and waits (killing it after 20 s).
func startLogged(cmd *exec.Cmd, logPath string) (func(), error) {
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
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
	}, nil
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
