package server

import (
	"errors"
	"strings"
	"testing"
)

func TestAdmissionPluginFlags(t *testing.T) {
	for _, c := range []struct {
		enable, disable []string
		err, warn       string
	}{
		{},
		{enable: []string{"NodeRestriction"}, warn: "--enable-admission-plugins NodeRestriction: regis does not implement this plugin"},
		{disable: []string{"ServiceAccount"}},
		{disable: []string{"NamespaceLifecycle"}, warn: "--disable-admission-plugins NamespaceLifecycle: regis always runs this plugin"},
		{enable: []string{"Nope"}, err: `enable-admission-plugins plugin "Nope" is unknown`},
		{disable: []string{"Nope"}, err: `disable-admission-plugins plugin "Nope" is unknown`},
		{enable: []string{"ServiceAccount"}, disable: []string{"ServiceAccount"}, err: "[ServiceAccount] in enable-admission-plugins and disable-admission-plugins overlapped"},
		{disable: []string{"ValidatingAdmissionWebhook"}, err: "disable all four or none"},
		{disable: dynamicAdmissionPlugins},
	} {
		o := Options{EnableAdmissionPlugins: c.enable, DisableAdmissionPlugins: c.disable}
		err := errors.Join(o.validateAdmissionPlugins()...)
		if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("enable %v disable %v: error %v, want %q", c.enable, c.disable, err, c.err)
		}
		w := strings.Join(o.admissionPluginWarnings(), "\n")
		if (w == "") != (c.warn == "") || !strings.Contains(w, c.warn) {
			t.Errorf("enable %v disable %v: warnings %q, want %q", c.enable, c.disable, w, c.warn)
		}
	}
}
