package controller

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

type runnerFunc func(ctx context.Context) error

func (f runnerFunc) Run(ctx context.Context) error { return f(ctx) }

// A failing controller is fatal: it stops the others and its error is
// Run's, named.
func TestRunStopsAllOnAFailure(t *testing.T) {
	var stopped atomic.Int32
	waiter := runnerFunc(func(ctx context.Context) error {
		<-ctx.Done()
		stopped.Add(1)
		return nil
	})
	boom := errors.New("boom")
	err := Run(t.Context(), slog.New(slog.DiscardHandler),
		Named{Name: "a", Runner: waiter},
		Named{Name: "broken", Runner: runnerFunc(func(context.Context) error { return boom })},
		Named{Name: "b", Runner: waiter})
	if !errors.Is(err, boom) || err.Error() != "controller broken: boom" {
		t.Fatalf("Run: %v", err)
	}
	if stopped.Load() != 2 {
		t.Fatalf("%d of 2 others stopped", stopped.Load())
	}
}

// A shutdown is no failure.
func TestRunReturnsNilOnShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, nil, Named{Name: "a", Runner: runnerFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})})
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// loop steps at once, on every wake-up, and after the wait a step asks.
func TestLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	wake := make(chan struct{}, 1)
	steps := make(chan time.Duration, 10)
	done := make(chan error, 1)
	go func() {
		done <- loop(ctx, wake, func(context.Context) time.Duration {
			steps <- 0
			return time.Hour
		})
	}()
	<-steps // at once
	wake <- struct{}{}
	select {
	case <-steps:
	case <-time.After(10 * time.Second):
		t.Fatal("no step after a wake-up")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
