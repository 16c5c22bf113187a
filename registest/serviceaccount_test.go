package registest_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/regis-dev/regis/internal/serviceaccount"
	"github.com/regis-dev/regis/registest"
)

// kubectlMu serializes in-process kubectl runs (process-wide state).
var kubectlMu sync.Mutex

// kubectl runs kubectl in process with the server's admin kubeconfig and
// returns its stdout, or its fatal error.
func kubectl(t *testing.T, srv *registest.Server, args ...string) (string, error) {
	t.Helper()
	kubectlMu.Lock()
	defer kubectlMu.Unlock()
	var out, errOut bytes.Buffer
	args = append([]string{"--kubeconfig", srv.Kubeconfig(), "--cache-dir", filepath.Join(t.TempDir(), "cache")}, args...)
	cmd := kubectlcmd.NewKubectlCommand(kubectlcmd.KubectlOptions{Arguments: append([]string{"kubectl"}, args...),
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		IOStreams:   genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	type fatal struct{ msg string }
	cmdutil.BehaviorOnFatal(func(msg string, _ int) { panic(fatal{msg}) })
	defer cmdutil.DefaultBehaviorOnFatal()
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				f, ok := p.(fatal)
				if !ok {
					panic(p)
				}
				err = errors.New(strings.TrimSpace(f.msg))
			}
		}()
		if e := cmd.Execute(); e != nil {
			err = e
		}
	}()
	return out.String(), err
}

// tokenClient is a client authenticated by a bearer token only.
func tokenClient(srv *registest.Server, token string) *kubernetes.Clientset {
	c := srv.Config()
	c.CertData, c.KeyData, c.BearerToken = nil, nil, token
	return kubernetes.NewForConfigOrDie(c)
}

func TestServiceAccountTokens(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	srv, err := registest.Start(ctx, registest.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	admin := kubernetes.NewForConfigOrDie(srv.Config())
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "robots"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa, err := admin.CoreV1().ServiceAccounts("robots").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := kubectl(t, srv, "-n", "robots", "create", "token", "robot", "--duration", "20m")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out)
	robot := tokenClient(srv, token)

	// Authenticated as the account: without a binding, 403 (not 401).
	_, err = robot.CoreV1().Pods("robots").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `User "system:serviceaccount:robots:robot" cannot list resource "pods"`) {
		t.Fatalf("list without a binding: %v", err)
	}
	if _, err := admin.RbacV1().RoleBindings("robots").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "robot-view"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "robot", Namespace: "robots"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := robot.CoreV1().Pods("robots").List(ctx, metav1.ListOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatalf("list with the view role: %v", err)
	}

	// Upstream's validation of the duration.
	if _, err := kubectl(t, srv, "-n", "robots", "create", "token", "robot", "--duration", "1m"); err == nil ||
		err.Error() != `error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes` {
		t.Errorf("a 1m token: %v", err)
	}
	if _, err := kubectl(t, srv, "-n", "robots", "create", "token", "nobody"); err == nil ||
		err.Error() != `error: failed to create token: serviceaccounts "nobody" not found` {
		t.Errorf("a missing account: %v", err)
	}

	// A token made with the server's key that expired is refused (the
	// API's minimum lifetime is 10 minutes).
	key, err := serviceaccount.LoadSigningKey(filepath.Join(dir, "pki", serviceaccount.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	expired := issueDirect(t, key, serviceaccount.Token{Namespace: "robots", Name: "robot", UID: string(sa.UID),
		Audiences: []string{serviceaccount.DefaultIssuer}, Now: time.Now().Add(-2 * time.Hour), Expiration: time.Hour})
	if _, err := tokenClient(srv, expired).CoreV1().Pods("robots").List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("expired token: %v", err)
	}

	// Deleted and created again: a token of the old account names the old
	// uid. (One not used before: a token that authenticated is reused
	// for 10 s, as upstream's token cache.)
	out, err = kubectl(t, srv, "-n", "robots", "create", "token", "robot")
	if err != nil {
		t.Fatal(err)
	}
	unused := tokenClient(srv, strings.TrimSpace(out))
	if err := admin.CoreV1().ServiceAccounts("robots").Delete(ctx, "robot", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().ServiceAccounts("robots").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := unused.CoreV1().Pods("robots").List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("token of a re-created account: %v", err)
	}
}

func issueDirect(t *testing.T, key crypto.Signer, tok serviceaccount.Token) string {
	t.Helper()
	i, err := serviceaccount.New(serviceaccount.Config{Issuers: []string{serviceaccount.DefaultIssuer}, SigningKey: key})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := i.Issue(tok)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaultServiceAccountAndRootCA(t *testing.T) {
	ctx := t.Context()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	admin := kubernetes.NewForConfigOrDie(srv.Config())
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) { return ok(), nil }); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var first types.UID
	eventually("the default service account", func() bool {
		sa, err := admin.CoreV1().ServiceAccounts("fresh").Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			first = sa.UID
		}
		return err == nil
	})
	eventually("kube-root-ca.crt", func() bool {
		cm, err := admin.CoreV1().ConfigMaps("fresh").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil && cm.Data["ca.crt"] == string(srv.Config().CAData) && cm.Annotations["kubernetes.io/description"] != ""
	})
	if err := admin.CoreV1().ServiceAccounts("fresh").Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually("the default service account created again", func() bool {
		sa, err := admin.CoreV1().ServiceAccounts("fresh").Get(ctx, "default", metav1.GetOptions{})
		return err == nil && sa.UID != first
	})
	cm, err := admin.CoreV1().ConfigMaps("fresh").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["ca.crt"] = "changed"
	if _, err := admin.CoreV1().ConfigMaps("fresh").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually("kube-root-ca.crt put back", func() bool {
		cm, err := admin.CoreV1().ConfigMaps("fresh").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil && cm.Data["ca.crt"] == string(srv.Config().CAData)
	})
	// The system namespaces have theirs too.
	eventually("default in kube-system", func() bool {
		_, err := admin.CoreV1().ServiceAccounts("kube-system").Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
}

// TestBoundTokens: tokens bound to a pod or a secret name it in their
// user's extra and end with it.
func TestBoundTokens(t *testing.T) {
	ctx := t.Context()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	admin := kubernetes.NewForConfigOrDie(srv.Config())
	if _, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := admin.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{ServiceAccountName: "robot", NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	review := func(token string) authenticationv1.TokenReviewStatus {
		t.Helper()
		r, err := admin.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	out, err := kubectl(t, srv, "create", "token", "robot", "--bound-object-kind", "Pod", "--bound-object-name", "p")
	if err != nil {
		t.Fatal(err)
	}
	podToken := strings.TrimSpace(out)
	// Tokens not used before the deletions below (a token that
	// authenticated is reused for 10 s, as upstream's token cache).
	var unused []string
	for _, kind := range []string{"Pod", "Secret"} {
		out, err := kubectl(t, srv, "create", "token", "robot", "--bound-object-kind", kind, "--bound-object-name", strings.ToLower(kind[:1]))
		if err != nil {
			t.Fatal(err)
		}
		unused = append(unused, strings.TrimSpace(out))
	}
	st := review(podToken)
	extra := st.User.Extra
	if !st.Authenticated || strings.Join(extra["authentication.kubernetes.io/pod-name"], "") != "p" ||
		strings.Join(extra["authentication.kubernetes.io/pod-uid"], "") != string(pod.UID) ||
		strings.Join(extra["authentication.kubernetes.io/node-name"], "") != "node-1" {
		t.Errorf("pod-bound token: %+v", st)
	}
	out, err = kubectl(t, srv, "create", "token", "robot", "--bound-object-kind", "Secret", "--bound-object-name", "s")
	if err != nil {
		t.Fatal(err)
	}
	secretToken := strings.TrimSpace(out)
	if st := review(secretToken); !st.Authenticated {
		t.Errorf("secret-bound token: %+v", st)
	}
	// Another account may not bind to the pod.
	if _, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kubectl(t, srv, "create", "token", "other", "--bound-object-kind", "Pod", "--bound-object-name", "p"); err == nil ||
		err.Error() != `error: failed to create token: cannot bind token for serviceaccount "other" to pod running with different serviceaccount name.` {
		t.Errorf("binding another account's pod: %v", err)
	}
	zero := int64(0)
	if err := admin.CoreV1().Pods("default").Delete(ctx, "p", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	if err := admin.CoreV1().Secrets("default").Delete(ctx, "s", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Refused once the server's watch cache, which the authenticator reads
	// (as upstream's reads its informers' listers), has seen the
	// deletions: a get at resourceVersion "0" reads that cache. A review
	// before then could still accept a token, which the token cache would
	// then reuse for 10 s (upstream's too): waiting for the cache, not
	// polling the review, keeps the test from racing it.
	for _, del := range []struct {
		what string
		get  func() error
	}{
		{"pod", func() error {
			_, err := admin.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{ResourceVersion: "0"})
			return err
		}},
		{"secret", func() error {
			_, err := admin.CoreV1().Secrets("default").Get(ctx, "s", metav1.GetOptions{ResourceVersion: "0"})
			return err
		}},
	} {
		if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			return apierrors.IsNotFound(del.get()), nil
		}); err != nil {
			t.Fatalf("the watch cache has not seen the %s's deletion in 10 s", del.what)
		}
	}
	for _, tok := range unused {
		if st := review(tok); st.Authenticated || st.Error != "[invalid bearer token, service account token has been invalidated]" {
			t.Errorf("token of a deleted object: %+v", st)
		}
	}
}

// TestPodServiceAccountAdmission: a pod gets the default account and the
// projected token volume, as upstream's ServiceAccount admission plugin.
func TestPodServiceAccountAdmission(t *testing.T) {
	ctx := t.Context()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	admin := kubernetes.NewForConfigOrDie(srv.Config())
	// A new namespace: the create waits for the default account.
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}},
		Containers:     []corev1.Container{{Name: "c", Image: "busybox"}}}}
	got, err := admin.CoreV1().Pods("apps").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.ServiceAccountName != "default" || got.Spec.DeprecatedServiceAccount != "default" || len(got.Spec.Volumes) != 1 {
		t.Fatalf("pod spec %+v", got.Spec)
	}
	v := got.Spec.Volumes[0]
	if !strings.HasPrefix(v.Name, "kube-api-access-") || len(v.Name) != len("kube-api-access-")+5 || v.Projected == nil ||
		*v.Projected.DefaultMode != 420 || len(v.Projected.Sources) != 3 ||
		*v.Projected.Sources[0].ServiceAccountToken.ExpirationSeconds != 3607 || v.Projected.Sources[0].ServiceAccountToken.Path != "token" ||
		v.Projected.Sources[1].ConfigMap.Name != "kube-root-ca.crt" || v.Projected.Sources[2].DownwardAPI.Items[0].FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("volume %+v", v)
	}
	for _, c := range append(got.Spec.InitContainers, got.Spec.Containers...) {
		if len(c.VolumeMounts) != 1 || !equality.Semantic.DeepEqual(c.VolumeMounts[0], corev1.VolumeMount{Name: v.Name, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}) {
			t.Errorf("container %s mounts %+v", c.Name, c.VolumeMounts)
		}
	}
	// automountServiceAccountToken: false on the account, then on the pod.
	no := false
	if _, err := admin.CoreV1().ServiceAccounts("apps").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "quiet"},
		AutomountServiceAccountToken: &no, ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod.Name, pod.Spec.ServiceAccountName = "q", "quiet"
	if got, err = admin.CoreV1().Pods("apps").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.Volumes) != 0 || len(got.Spec.ImagePullSecrets) != 1 || got.Spec.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("pod of an account without automount: %+v", got.Spec)
	}
	pod.Name, pod.Spec.ServiceAccountName, pod.Spec.AutomountServiceAccountToken = "r", "", &no
	if got, err = admin.CoreV1().Pods("apps").Create(ctx, pod, metav1.CreateOptions{}); err != nil || len(got.Spec.Volumes) != 0 {
		t.Errorf("pod without automount: %v %+v", err, got)
	}
	// A missing account: upstream's 403.
	pod.Name, pod.Spec.ServiceAccountName = "m", "missing"
	_, err = admin.CoreV1().Pods("apps").Create(ctx, pod, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || err.Error() != `pods "m" is forbidden: error looking up service account apps/missing: serviceaccount "missing" not found` {
		t.Errorf("pod of a missing account: %v", err)
	}
}

// TestLegacyTokenSecrets: a kubernetes.io/service-account-token secret
// gets a token (issuer kubernetes/serviceaccount) that authenticates as
// its account while the secret holds it; the secret goes with the
// account.
func TestLegacyTokenSecrets(t *testing.T) {
	ctx := t.Context()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	admin := kubernetes.NewForConfigOrDie(srv.Config())
	sa, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "old-style"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "old-style-token",
		Annotations: map[string]string{corev1.ServiceAccountNameKey: "old-style"}}, Type: corev1.SecretTypeServiceAccountToken}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var secret *corev1.Secret
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		secret, err = admin.CoreV1().Secrets("default").Get(ctx, "old-style-token", metav1.GetOptions{})
		return err == nil && len(secret.Data["token"]) > 0, nil
	}); err != nil {
		t.Fatalf("the token is not filled in: %v", err)
	}
	if string(secret.Data["namespace"]) != "default" || string(secret.Data["ca.crt"]) != string(srv.Config().CAData) ||
		secret.Annotations[corev1.ServiceAccountUIDKey] != string(sa.UID) {
		t.Errorf("secret %+v", secret)
	}
	tr, err := admin.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: string(secret.Data["token"])}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Status.Authenticated || tr.Status.User.Username != "system:serviceaccount:default:old-style" || tr.Status.User.UID != string(sa.UID) {
		t.Errorf("review of the legacy token: %+v", tr.Status)
	}
	if err := admin.CoreV1().ServiceAccounts("default").Delete(ctx, "old-style", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := admin.CoreV1().Secrets("default").Get(ctx, "old-style-token", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Errorf("the token secret of a deleted account stays: %v", err)
	}
}
