package registest_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// kubectlRunMu serializes in-process kubectl runs (kubectl keeps
// process-wide state: its fatal-error hook, klog flags).
var kubectlRunMu sync.Mutex

type kubectlFatal struct {
	msg  string
	code int
}

// runKubectl runs kubectl in process with the admin kubeconfig of srv
// and returns its stdout and its error (a fatal error's message).
func runKubectl(t *testing.T, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	kubectlRunMu.Lock()
	defer kubectlRunMu.Unlock()
	var out, errOut bytes.Buffer
	args = append([]string{"--kubeconfig", kubeconfig, "--cache-dir", t.TempDir()}, args...)
	cmd := kubectlcmd.NewKubectlCommand(kubectlcmd.KubectlOptions{
		Arguments:   append([]string{"kubectl"}, args...),
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		IOStreams:   genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmdutil.BehaviorOnFatal(func(msg string, code int) { panic(kubectlFatal{msg, code}) })
	defer cmdutil.DefaultBehaviorOnFatal()
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				f, ok := p.(kubectlFatal)
				if !ok {
					panic(p)
				}
				err = fmt.Errorf("exit %d: %s", f.code, strings.TrimSpace(f.msg))
			}
		}()
		err = cmd.Execute()
	}()
	return out.String(), err
}

// TestKubectlAs: kubectl --as and --as-group through the administrator's
// kubeconfig; the impersonated user's rights apply.
func TestKubectlAs(t *testing.T) {
	e := startAuthz(t)
	e.role(t, "team", "cm-read", rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"configmaps"}})
	e.bind(t, "team", "carol-cm", "Role", "cm-read", userSubject("carol"))
	kc := e.srv.Kubeconfig()
	eventually(t, "kubectl --as carol get configmaps -n team", func() error {
		_, err := runKubectl(t, kc, "--as", "carol", "get", "configmaps", "-n", "team", "-o", "name")
		return err
	})
	_, err := runKubectl(t, kc, "--as", "carol", "get", "configmaps", "-n", "other")
	want := `Error from server (Forbidden): configmaps is forbidden: User "carol" cannot list resource "configmaps" in API group "" in the namespace "other"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("kubectl --as carol -n other: %v\nwant %s", err, want)
	}
	// (kubectl auth can-i exits the process on "no": TestCanIEqualsTable
	// runs its options instead.)
	_, err = runKubectl(t, kc, "--as", "dave", "--as-group", "viewers", "get", "configmaps", "-n", "other")
	if err == nil || !strings.Contains(err.Error(), `User "dave" cannot list resource "configmaps"`) {
		t.Errorf("kubectl --as dave --as-group viewers before the binding: %v", err)
	}
	e.bind(t, "", "viewers", "ClusterRole", "view", groupSubject("viewers"))
	eventually(t, "kubectl --as-group viewers get configmaps -n other", func() error {
		_, err := runKubectl(t, kc, "--as", "dave", "--as-group", "viewers", "get", "configmaps", "-n", "other")
		return err
	})
}
