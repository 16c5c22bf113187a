package kmsv2

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Status polling intervals, as kube-apiserver's.
const (
	DefaultPollInterval  = time.Minute
	DefaultRetryInterval = 10 * time.Second
)

// PluginConfig configures Start. Name and Endpoint are required.
type PluginConfig struct {
	Name     string
	Endpoint string        // "unix:///path" or "unix:///@abstract"
	Timeout  time.Duration // per plugin call; zero means 3s
	// PollInterval between status checks while healthy, RetryInterval
	// while not; zero means DefaultPollInterval, DefaultRetryInterval.
	PollInterval, RetryInterval time.Duration
	Logger                      *slog.Logger // nil means slog.Default()
}

// Plugin is a Provider connected to its plugin, with the goroutine that
// polls the plugin's status. It owns both; Close ends them.
type Plugin struct {
	*Provider
	client *Client
	cancel context.CancelFunc
	done   chan struct{} // closed when the poll goroutine returns
}

// Start connects to the plugin, asks its status once (a failure is logged,
// not returned: the plugin may start after the server; writes wait for
// it) and starts polling it. The Plugin lives until Close, whatever ctx
// does after Start returns.
func Start(ctx context.Context, cfg PluginConfig) (*Plugin, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = DefaultRetryInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Name == "" || cfg.Endpoint == "" {
		return nil, errors.New("kms v2 plugin: Name and Endpoint are required")
	}
	client, err := Dial(cfg.Endpoint, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	p, err := New(Config{Name: cfg.Name, Service: client, Timeout: cfg.Timeout, Logger: cfg.Logger})
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	pl := &Plugin{Provider: p, client: client, cancel: cancel, done: make(chan struct{})}
	next := cfg.PollInterval
	if err := p.Probe(ctx); err != nil {
		p.cfg.Logger.Warn("kms v2 plugin not ready; retrying", "endpoint", cfg.Endpoint, "error", err)
		next = cfg.RetryInterval
	}
	go pl.poll(runCtx, cfg, next)
	return pl, nil
}

// poll probes the plugin until ctx is done: every PollInterval while it is
// healthy, every RetryInterval while it is not, so that the seed's three
// minutes of write time are renewed in time.
func (pl *Plugin) poll(ctx context.Context, cfg PluginConfig, next time.Duration) {
	defer close(pl.done)
	timer := time.NewTimer(next)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if err := pl.Probe(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			cfg.Logger.Warn("kms v2 plugin status failed", "kms_provider", cfg.Name, "error", err)
			timer.Reset(cfg.RetryInterval)
			continue
		}
		timer.Reset(cfg.PollInterval)
	}
}

// Close stops polling and closes the connection to the plugin.
func (pl *Plugin) Close() error {
	pl.cancel()
	<-pl.done
	return pl.client.Close()
}
