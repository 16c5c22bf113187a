package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// A Runner runs until ctx ends and returns nil then; any other return is
// fatal: the controller cannot go on.
type Runner interface {
	Run(ctx context.Context) error
}

// Named is a Runner with the name its errors are logged under.
type Named struct {
	Name   string
	Runner Runner
}

// Run runs the controllers until ctx ends, each in a goroutine it owns,
// and returns once all have returned. A controller that fails (returns
// an error before ctx ends) is logged, stops the others, and its error is
// Run's: the server it belongs to cannot serve as it should.
func Run(ctx context.Context, log *slog.Logger, cs ...Named) error {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg     sync.WaitGroup
		once   sync.Once
		failed error
	)
	for _, c := range cs {
		wg.Go(func() {
			if err := c.Runner.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("controller failed", "controller", c.Name, "err", err)
				once.Do(func() { failed = fmt.Errorf("controller %s: %w", c.Name, err) })
				cancel()
			}
		})
	}
	wg.Wait()
	return failed
}

// loop calls step at once, then whenever wake delivers or the wait that
// step returned has passed, until ctx ends; it returns nil then.
func loop(ctx context.Context, wake <-chan struct{}, step func(ctx context.Context) time.Duration) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-timer.C:
		}
		wait := step(ctx)
		timer.Stop()
		timer.Reset(wait)
	}
}
