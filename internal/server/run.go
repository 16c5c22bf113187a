package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/regis-dev/regis/internal/etcd"
)

// Run starts the backend (see Start), serves the API on it (or runs
// o.Serve) until ctx ends or serving fails, then closes the backend. It returns nil after a shutdown
// asked for by ctx, Serve's error if Serve failed, and the embedded etcd's
// error if etcd died (Serve's context is then cancelled).
func Run(ctx context.Context, o Options) error {
	b, err := startRetrying(ctx, o)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil { // stopped while waiting for etcd
			return nil
		}
		return err
	}
	serve := o.Serve
	if serve == nil {
		serve = func(ctx context.Context, b *Backend) error { return ServeAPI(ctx, b, o) }
	}

	sctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { // ends Serve if the embedded etcd dies
		select {
		case err := <-b.Err():
			cancel(fmt.Errorf("embedded etcd failed: %w", err))
		case <-sctx.Done():
		}
	})
	b.log.Info("regis serving")
	err = serve(sctx, b)
	cause := context.Cause(sctx)
	cancel(nil)
	wg.Wait()
	b.log.Info("regis stopping")
	if err := b.leaveCluster(ctx); err != nil { // --leave
		b.log.Error("could not leave the embedded etcd cluster", "error", err)
	}
	closeErr := b.Close()
	b.removeLeftData()

	var errs []error
	if err != nil && !(errors.Is(err, context.Canceled) && sctx.Err() != nil) {
		errs = append(errs, err)
	}
	if cause != nil && ctx.Err() == nil { // etcd died: not a shutdown
		errs = append(errs, cause)
	}
	return errors.Join(append(errs, closeErr)...)
}

// Backoff of startRetrying: the wait after the first failed attempt to
// reach an external etcd, doubled after each one up to the maximum.
const (
	startRetryInitial = time.Second
	startRetryMax     = 30 * time.Second
)

// startProbeTimeout bounds each probe of an external etcd before Start.
const startProbeTimeout = 5 * time.Second

// startRetrying is Start once an external etcd (--etcd-servers) answers:
// while it does not, each probe (startProbeTimeout) is followed by an
// error log line and a growing pause, until it answers or ctx ends; the
// cluster may start after the server. Other errors end it at once.
func startRetrying(ctx context.Context, o Options) (*Backend, error) {
	wait := startRetryInitial
	for attempt := 1; len(o.EtcdServers) > 0 && o.Validate() == nil; attempt++ {
		tlsCfg, err := etcd.TLSConfig(o.EtcdCAFile, o.EtcdCertFile, o.EtcdKeyFile)
		if err != nil {
			break // Start reports it
		}
		c, err := dialChecked(ctx, o.EtcdServers, tlsCfg, startProbeTimeout)
		if err == nil {
			c.Close()
			if attempt > 1 {
				logger(o).Info("etcd reachable", "endpoints", o.EtcdServers, "attempts", attempt)
			}
			break
		}
		if ctx.Err() != nil {
			return nil, err
		}
		logger(o).Error("etcd not reachable: retrying", "endpoints", o.EtcdServers, "attempt", attempt, "retry-in", wait, "error", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, startRetryMax)
	}
	return Start(ctx, o)
}

func logger(o Options) *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}
