package fault_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/cluster"
)

// etcdStatus runs `regis etcd status --data-dir dir -o json`.
func etcdStatus(t *testing.T, dir string) []etcd.MemberStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, cluster.Binary(t), "etcd", "status", "--data-dir", dir, "-o", "json")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("regis etcd status: %v: %s", err, errOut.String())
	}
	var st struct{ Members []etcd.MemberStatus }
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("regis etcd status -o json: %v: %s", err, out.String())
	}
	return st.Members
}

// waitMembers waits until the cluster seen from dir has n voting, healthy
// members, one of them leader.
func waitMembers(t *testing.T, dir string, n int) []etcd.MemberStatus {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ms := etcdStatus(t, dir)
		healthy, leaders := 0, 0
		for _, m := range ms {
			if m.Healthy && !m.IsLearner {
				healthy++
			}
			if m.IsLeader {
				leaders++
			}
		}
		if len(ms) == n && healthy == n && leaders == 1 {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d healthy members and a leader, have %+v", n, ms)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func createCM(t *testing.T, r *cluster.Regis, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := r.Clientset(t).CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s through %s: %v", name, r.Name, err)
	}
}

func getCM(t *testing.T, r *cluster.Regis, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := r.Clientset(t).CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
		t.Fatalf("get %s through %s: %v", name, r.Name, err)
	}
}

// Embedded HA as k3s: a --cluster-init server and two --join servers form
// a 3-member raft of their embedded etcd members; a write through one is
// read through another; the first server killed leaves the others
// serving; a server leaving (--leave) and a member removed shrink the
// cluster.
func TestEmbeddedHA(t *testing.T) {
	base := t.TempDir()
	// s1's member on another loopback address than its certificates'
	// default (127.0.0.1): it re-issues them for it.
	s1 := cluster.NewRegis(t, "s1", filepath.Join(base, "s1"), "--cluster-init", "--advertise-address", "127.0.0.2")
	s1.StartReady(t, 90*time.Second)
	tokenBytes, err := os.ReadFile(filepath.Join(s1.DataDir, "join-token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenBytes))
	secret := token[strings.Index(token, "::")+2:]

	s2 := cluster.NewRegis(t, "s2", filepath.Join(base, "s2"), "--join", s1.URL, "--join-token", token, "--advertise-address", "127.0.0.3")
	s2.StartReady(t, 90*time.Second)
	s3 := cluster.NewRegis(t, "s3", filepath.Join(base, "s3"), "--join", s1.URL, "--join-token-file", filepath.Join(s1.DataDir, "join-token"), "--leave")
	s3.StartReady(t, 90*time.Second)
	ms := waitMembers(t, s1.DataDir, 3)
	t.Logf("members: %+v", ms)

	ns := newNamespace(t, s1.Clientset(t))
	createCM(t, s1, ns, "a")
	getCM(t, s3, ns, "a")
	sharedCredentials(t, s1, s2, ns)

	// A wrong token is refused.
	bad := cluster.NewRegis(t, "bad", filepath.Join(base, "bad"), "--join", s1.URL, "--join-token", strings.Replace(token, secret, strings.Repeat("0", len(secret)), 1))
	bad.Start(t)
	select {
	case <-bad.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("a server with a wrong join token still runs after 30s")
	}
	if !bad.LogContains("wrong join token") {
		t.Errorf("the refused joiner does not say why: %s", bad.Tail(1024))
	}

	// The first server killed: the two others keep a quorum.
	s1.Kill()
	createCM(t, s2, ns, "b")
	getCM(t, s3, ns, "b")
	s1.StartReady(t, 60*time.Second)
	getCM(t, s1, ns, "b")
	waitMembers(t, s2.DataDir, 3)

	// s2 is killed and removed (the two others keep a quorum); s3 leaves
	// on a clean shutdown; s1 serves alone.
	s2.Kill()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	name, _ := os.ReadFile(filepath.Join(s2.DataDir, "etcd-member-name"))
	out, err := exec.CommandContext(ctx, cluster.Binary(t), "etcd", "member", "remove", strings.TrimSpace(string(name)), "--data-dir", s1.DataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("regis etcd member remove: %v: %s", err, out)
	}
	waitMembers(t, s1.DataDir, 2)
	s3.Stop(60 * time.Second)
	waitMembers(t, s1.DataDir, 1)
	if _, err := os.Stat(filepath.Join(s3.DataDir, "etcd")); err == nil {
		t.Error("s3 left but kept its etcd data")
	}
	s1.WaitReady(t, 30*time.Second)
	createCM(t, s1, ns, "c")

	for _, p := range []*cluster.Regis{s1, s2, s3, bad} {
		data, _ := os.ReadFile(p.Log)
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, secret) && !strings.HasPrefix(line, "=== start") { // the test's own line
				t.Errorf("%s's log holds the join secret: %s", p.Name, line)
			}
		}
	}
}

// sharedCredentials checks that a joined server took the first one's API
// CA and service account key: s1's admin credentials and a token s1
// issued are good on s2.
func sharedCredentials(t *testing.T, s1, s2 *cluster.Regis, ns string) {
	t.Helper()
	for _, name := range []string{"ca.crt", "ca.key", "sa.key"} {
		a, errA := os.ReadFile(filepath.Join(s1.DataDir, "pki", name))
		b, errB := os.ReadFile(filepath.Join(s2.DataDir, "pki", name))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("pki/%s differs between the first and a joined server (%v, %v)", name, errA, errB)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cross := s1.Config(t)
	cross.Host = s2.URL
	if _, err := kubernetes.NewForConfigOrDie(cross).CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		t.Errorf("the first server's admin credentials on a joined server: %v", err)
	}
	var token string
	for token == "" {
		tr, err := s1.Clientset(t).CoreV1().ServiceAccounts(ns).CreateToken(ctx, "default",
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
		switch {
		case err == nil:
			token = tr.Status.Token
		case ctx.Err() != nil:
			t.Fatalf("a token for %s/default: %v", ns, err)
		default:
			time.Sleep(100 * time.Millisecond) // the account's controller
		}
	}
	bearer := rest.AnonymousClientConfig(cross)
	bearer.BearerToken = token
	r, err := kubernetes.NewForConfigOrDie(bearer).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if want := "system:serviceaccount:" + ns + ":default"; err != nil || r.Status.UserInfo.Username != want {
		t.Errorf("a token of the first server on a joined server: %v %v, want %s", r, err, want)
	}
}
