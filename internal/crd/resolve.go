package crd

import (
	"context"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/resolve"
)

// ServiceResolver returns WebhookOptions.ResolveService over a registry's
// services and EndpointSlices (package resolve).
func ServiceResolver(reg *registry.Registry) func(ctx context.Context, namespace, name string, port int32) (string, error) {
	return func(ctx context.Context, namespace, name string, port int32) (string, error) {
		return resolve.Service(ctx, reg, namespace, name, port)
	}
}
