package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/regis-dev/regis/internal/admission"
	"github.com/regis-dev/regis/internal/registry"
)

// startAdmission installs dynamic admission (mutating and validating
// webhooks, ValidatingAdmissionPolicies) on every write of reg; its
// configuration is watched by a goroutine of wg until ctx is done.
// --disable-admission-plugins with the four dynamic plugins turns it off.
func startAdmission(ctx context.Context, o *Options, reg *registry.Registry, wg *sync.WaitGroup, log *slog.Logger) error {
	if !o.admissionPluginOn("ValidatingAdmissionWebhook") { // all four are off (validateAdmissionPlugins)
		return nil
	}
	chain, err := admission.New(admission.Config{Registry: reg, Logf: func(format string, args ...any) {
		log.Warn(fmt.Sprintf(format, args...))
	}})
	if err != nil {
		return err
	}
	wg.Go(func() { _ = chain.Run(ctx) })
	reg.SetAdmission(chain)
	return nil
}
