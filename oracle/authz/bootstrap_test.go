//go:build oracle

// Package authz computes golden files for internal/authz from upstream:
// the bootstrap RBAC objects a real kube-apiserver v1.37.2 creates at
// start, and a table of can-i answers of upstream's RBAC authorizer.
// Run with: cd oracle && go test -tags oracle -count=1 ./authz/ -update
package authz

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/etcd"
)

var update = flag.Bool("update", false, "write the golden files under internal/authz")

// BootstrapDump is the golden file's shape: the objects with only the
// fields bootstrap data sets (name, namespace, labels, annotations,
// rules, aggregationRule, roleRef, subjects).
type BootstrapDump struct {
	ClusterRoles        []rbacv1.ClusterRole        `json:"clusterRoles"`
	ClusterRoleBindings []rbacv1.ClusterRoleBinding `json:"clusterRoleBindings"`
	Roles               []rbacv1.Role               `json:"roles"`
	RoleBindings        []rbacv1.RoleBinding        `json:"roleBindings"`
}

func clean(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations}
}

// TestBootstrapDump starts kube-apiserver on a fresh etcd and dumps its
// bootstrap RBAC objects into internal/authz/bootstrap/testdata.
func TestBootstrapDump(t *testing.T) {
	bin := os.Getenv("ORACLE_KUBE_APISERVER")
	if bin == "" {
		bin, _ = filepath.Abs("../../bin/oracle/kube-apiserver")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no kube-apiserver at %s: %v", bin, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "etcd"), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cfg := startOracle(t, ctx, bin, dir, e.Endpoint)
	cs := kubernetes.NewForConfigOrDie(cfg)
	var d BootstrapDump
	crs, err := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range crs.Items {
		d.ClusterRoles = append(d.ClusterRoles, rbacv1.ClusterRole{ObjectMeta: clean(o.ObjectMeta), Rules: o.Rules, AggregationRule: o.AggregationRule})
	}
	crbs, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range crbs.Items {
		d.ClusterRoleBindings = append(d.ClusterRoleBindings, rbacv1.ClusterRoleBinding{ObjectMeta: clean(o.ObjectMeta), RoleRef: o.RoleRef, Subjects: o.Subjects})
	}
	rs, err := cs.RbacV1().Roles("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rs.Items {
		d.Roles = append(d.Roles, rbacv1.Role{ObjectMeta: clean(o.ObjectMeta), Rules: o.Rules})
	}
	rbs, err := cs.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rbs.Items {
		d.RoleBindings = append(d.RoleBindings, rbacv1.RoleBinding{ObjectMeta: clean(o.ObjectMeta), RoleRef: o.RoleRef, Subjects: o.Subjects})
	}
	sort.Slice(d.Roles, func(i, j int) bool {
		return d.Roles[i].Namespace+"/"+d.Roles[i].Name < d.Roles[j].Namespace+"/"+d.Roles[j].Name
	})
	sort.Slice(d.RoleBindings, func(i, j int) bool {
		return d.RoleBindings[i].Namespace+"/"+d.RoleBindings[i].Name < d.RoleBindings[j].Namespace+"/"+d.RoleBindings[j].Name
	})
	t.Logf("%d clusterroles, %d clusterrolebindings, %d roles, %d rolebindings",
		len(d.ClusterRoles), len(d.ClusterRoleBindings), len(d.Roles), len(d.RoleBindings))
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeOrCompare(t, "../../internal/authz/bootstrap/testdata/kube-apiserver-bootstrap.json", out)
}

func startOracle(t *testing.T, ctx context.Context, bin, dir, etcdURL string) *rest.Config {
	return startOracleUsers(t, ctx, bin, dir, etcdURL, nil)
}

// tokenUser is a user of the oracle's token file; its token is
// "token-" + name.
type tokenUser struct {
	name   string
	groups []string
}

// startOracleUsers starts kube-apiserver with RBAC, an administrator
// (the returned config) and users authenticated by tokens.
func startOracleUsers(t *testing.T, ctx context.Context, bin, dir, etcdURL string, users []tokenUser) *rest.Config {
	const token = "oracle-admin-token"
	tokens := filepath.Join(dir, "tokens.csv")
	lines := token + ",admin,admin-uid,system:masters\n"
	seen := map[string]bool{}
	for _, u := range users {
		if !seen[u.name] {
			seen[u.name] = true
			lines += fmt.Sprintf("token-%s,%s,uid-%s,%q\n", u.name, u.name, u.name, strings.Join(u.groups, ","))
		}
	}
	if err := os.WriteFile(tokens, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	saKey := filepath.Join(dir, "certs", "sa.key")
	cmd := exec.CommandContext(ctx, bin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saKey,
		"--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--endpoint-reconciler-type=none",
	)
	if err := writeKey(saKey); err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logFile, err := os.Create(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	cfg := &rest.Config{Host: "https://127.0.0.1:" + strconv.Itoa(port), BearerToken: token, QPS: -1,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	deadline := time.Now().Add(120 * time.Second)
	for {
		// readyz includes poststarthook/rbac/bootstrap-roles.
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cfg
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("kube-apiserver not ready: %v\n%s", err, tail(b))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// writeOrCompare writes a golden file with -update, else checks that
// upstream's answers are still the golden ones.
func writeOrCompare(t *testing.T, path string, out []byte) {
	t.Helper()
	out = append(out, '\n')
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(old) != string(out) {
		t.Errorf("%s differs from what upstream answers now: run with -update and review the diff", path)
	}
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func writeKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}
