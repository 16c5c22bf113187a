package podsecurity

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	psconfig "k8s.io/pod-security-admission/admission/api"
	psapi "k8s.io/pod-security-admission/api"
)

const psaConfig = `apiVersion: pod-security.admission.config.k8s.io/v1
kind: PodSecurityConfiguration
defaults:
  enforce: baseline
  warn-version: v1.30
exemptions:
  usernames: [alice]
  runtimeClasses: [kata]
  namespaces: [kube-system]
`

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPluginConfig reads the PodSecurity entry of an AdmissionConfiguration
// as upstream: nested, by a path relative to the file, absent, legacy.
func TestPluginConfig(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "psa.yaml", psaConfig)
	nested := "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n" +
		"- name: EventRateLimit\n  path: nope.yaml\n- name: PodSecurity\n  configuration:\n" +
		"    " + strings.ReplaceAll(strings.TrimSpace(psaConfig), "\n", "\n    ") + "\n"
	for name, file := range map[string]string{
		"nested": write(t, dir, "nested.yaml", nested),
		"path": write(t, dir, "path.yaml", "apiVersion: apiserver.config.k8s.io/v1alpha1\nkind: AdmissionConfiguration\n"+
			"plugins:\n- name: PodSecurity\n  path: psa.yaml\n"),
	} {
		data, err := pluginConfig(file, PluginName)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		conf, err := loadConfiguration(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if conf.Defaults.Enforce != "baseline" || conf.Defaults.WarnVersion != "v1.30" || conf.Defaults.Audit != "privileged" ||
			!slices.Equal(conf.Exemptions.Usernames, []string{"alice"}) || !slices.Equal(conf.Exemptions.RuntimeClasses, []string{"kata"}) ||
			!slices.Equal(conf.Exemptions.Namespaces, []string{"kube-system"}) {
			t.Errorf("%s: %+v", name, conf)
		}
	}

	for name, file := range map[string]string{
		"no file":   "",
		"no entry":  write(t, dir, "other.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: EventRateLimit\n  path: x.yaml\n"),
		"legacy":    write(t, dir, "legacy.yaml", "imagePolicy:\n  kubeConfigFile: x\n"),
		"no config": write(t, dir, "empty.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n"),
	} {
		data, err := pluginConfig(file, PluginName)
		if err != nil || data != nil {
			t.Errorf("%s: %q, %v; want no configuration", name, data, err)
		}
	}
	conf, err := loadConfiguration(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := psconfig.ToPolicy(conf.Defaults)
	if err != nil || p.Enforce != (psapi.LevelVersion{Level: psapi.LevelPrivileged, Version: psapi.LatestVersion()}) || !p.FullyPrivileged() {
		t.Errorf("defaults: %v %v, want privileged:latest", p, err)
	}

	for name, c := range map[string]struct{ content, want string }{
		"unknown kind":  {"apiVersion: apiserver.config.k8s.io/v1\nkind: Other\n", `no kind "Other" is registered for version "apiserver.config.k8s.io/v1"`},
		"no kind":       {"plugins: []\n", "Object 'Kind' or 'apiVersion' is missing"},
		"unknown field": {"apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugin: []\n", `unknown field "plugin"`},
		"missing path":  {"apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  path: missing.yaml\n", "missing.yaml"},
	} {
		_, err := pluginConfig(write(t, dir, "bad.yaml", c.content), PluginName)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	if _, err := pluginConfig(filepath.Join(dir, "absent.yaml"), PluginName); err == nil ||
		!strings.HasPrefix(err.Error(), "unable to read admission control configuration from") {
		t.Errorf("absent file: %v", err)
	}
}

// TestBadPodSecurityConfiguration: the library's validation of the
// configuration, with upstream's prefix.
func TestBadPodSecurityConfiguration(t *testing.T) {
	_, err := newPlugin(Config{}, []byte("apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults:\n  enforce: strict\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "PodSecurity configuration error: ") {
		t.Errorf("bad level: %v", err)
	}
	_, err = newPlugin(Config{}, []byte("apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\nexemptions:\n  namespaces: [\"\"]\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "PodSecurity invalid: ") {
		t.Errorf("empty exempt namespace: %v", err)
	}
}
