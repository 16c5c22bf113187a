package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Run starts the backend (see Start), serves the API on it (or runs
// o.Serve) until ctx ends or serving fails, then closes the backend. It returns nil after a shutdown
// asked for by ctx, Serve's error if Serve failed, and the embedded etcd's
// error if etcd died (Serve's context is then cancelled).
func Run(ctx context.Context, o Options) error {
	b, err := Start(ctx, o)
	if err != nil {
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
	closeErr := b.Close()

	var errs []error
	if err != nil && !(errors.Is(err, context.Canceled) && sctx.Err() != nil) {
		errs = append(errs, err)
	}
	if cause != nil && ctx.Err() == nil { // etcd died: not a shutdown
		errs = append(errs, cause)
	}
	return errors.Join(append(errs, closeErr)...)
}
