package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/flowcontrol"
)

// The webhook backend's defaults, upstream's (--audit-webhook-*).
const (
	DefaultWebhookInitialBackoff = 10 * time.Second
	DefaultWebhookBatchMaxSize   = 400
	DefaultWebhookBatchMaxWait   = 30 * time.Second
	DefaultWebhookThrottleQPS    = 10
	DefaultWebhookThrottleBurst  = 15
	// webhookAttempts and the factor are upstream's retry backoff
	// (DefaultRetryBackoffWithInitialDelay): any error is retried.
	webhookAttempts = 5
	// webhookShutdownWait bounds the last call at shutdown.
	webhookShutdownWait = 5 * time.Second
	// maxWebhookAnswer bounds what is read of a webhook's answer.
	maxWebhookAnswer = 64 << 10
)

// WebhookConfig configures the webhook backend (kube-apiserver's
// --audit-webhook-* flags).
type WebhookConfig struct {
	// ConfigFile is a kubeconfig: its cluster's server is where events
	// are POSTed (an audit.k8s.io/v1 EventList), with its TLS and
	// credentials.
	ConfigFile string
	// Mode is batch (upstream's default for the webhook), blocking or
	// blocking-strict.
	Mode string
	// InitialBackoff is the wait before the first retry of a failed
	// call; each next one is 1.5 times longer, five attempts in all.
	InitialBackoff time.Duration
	// BufferSize bounds the events queued in batch mode; MaxSize the
	// events of one call, MaxWait how long an event waits for others.
	BufferSize, MaxSize int
	MaxWait             time.Duration
	// Throttle limits batch mode's calls to QPS a second, Burst at once.
	Throttle bool
	QPS      float32
	Burst    int
	// Version is the events' API version: audit.k8s.io/v1 only.
	Version string
	Logger  *slog.Logger
}

// Webhook is the webhook backend: a Sink POSTing events to a server.
// In batch mode Run owns the queue and the calls.
type Webhook struct {
	c      WebhookConfig
	client *http.Client
	url    string
	queue  chan []byte // batch mode
	limit  flowcontrol.RateLimiter
}

// OpenWebhook loads the webhook's kubeconfig.
func OpenWebhook(c WebhookConfig) (*Webhook, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.ConfigFile
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 30 * time.Second
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = DefaultWebhookInitialBackoff
	}
	if c.MaxSize <= 0 {
		c.MaxSize = DefaultWebhookBatchMaxSize
	}
	if c.MaxWait <= 0 {
		c.MaxWait = DefaultWebhookBatchMaxWait
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	w := &Webhook{c: c, client: client, url: cfg.Host}
	if c.Mode == ModeBatch || c.Mode == "" {
		size := c.BufferSize
		if size <= 0 {
			size = DefaultBatchBufferSize
		}
		w.queue = make(chan []byte, size)
		if c.Throttle {
			w.limit = flowcontrol.NewTokenBucketRateLimiter(c.QPS, c.Burst)
		}
	}
	return w, nil
}

// Write implements Sink: in batch mode the event is queued (an error when
// the queue is full), else sent now.
func (w *Webhook) Write(line []byte) error {
	if w.queue != nil {
		select {
		case w.queue <- line:
			return nil
		default:
			return errors.New("audit buffer queue blocked")
		}
	}
	return w.send(context.Background(), [][]byte{line})
}

// Run sends the queued events (batch mode) in calls of at most MaxSize,
// each event waiting at most MaxWait, until ctx ends; then what is queued
// is sent.
func (w *Webhook) Run(ctx context.Context) error {
	if w.queue == nil {
		<-ctx.Done()
		return nil
	}
	for {
		batch, open := w.collect(ctx)
		if len(batch) > 0 {
			if w.limit != nil && open {
				if err := w.limit.Wait(ctx); err != nil {
					open = false
				}
			}
			sctx := ctx
			if !open {
				// the last events: bounded, so that an unreachable
				// webhook does not hold the server's shutdown
				var cancel context.CancelFunc
				sctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), min(w.c.MaxWait, webhookShutdownWait))
				defer cancel()
			}
			if err := w.send(sctx, batch); err != nil {
				w.c.Logger.Error("audit webhook failed; events lost", "events", len(batch), "err", err)
			}
		}
		if !open {
			return nil
		}
	}
}

// collect waits for a first event, then gathers up to MaxSize for at
// most MaxWait; open is false once ctx has ended (the queue drained).
func (w *Webhook) collect(ctx context.Context) (batch [][]byte, open bool) {
	select {
	case line := <-w.queue:
		batch = append(batch, line)
	case <-ctx.Done():
		return w.drain(), false
	}
	t := time.NewTimer(w.c.MaxWait)
	defer t.Stop()
	for len(batch) < w.c.MaxSize {
		select {
		case line := <-w.queue:
			batch = append(batch, line)
		case <-t.C:
			return batch, true
		case <-ctx.Done():
			return append(batch, w.drain()...), false
		}
	}
	return batch, true
}

func (w *Webhook) drain() (batch [][]byte) {
	for {
		select {
		case line := <-w.queue:
			batch = append(batch, line)
		default:
			return batch
		}
	}
}

// send POSTs the events as one EventList, retrying any failure with
// upstream's backoff.
func (w *Webhook) send(ctx context.Context, lines [][]byte) error {
	body := eventList(lines)
	backoff := wait.Backoff{Duration: w.c.InitialBackoff, Factor: 1.5, Jitter: 0.2, Steps: webhookAttempts}
	var last error
	err := wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
		last = w.post(ctx, body)
		return last == nil, nil
	})
	if last != nil {
		return last
	}
	return err
}

func (w *Webhook) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, */*")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the server answered %d: %.200s", resp.StatusCode, answer)
	}
	return nil
}

// eventList is the audit.k8s.io/v1 EventList of the events' JSON lines.
func eventList(lines [][]byte) []byte {
	var b bytes.Buffer
	b.WriteString(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[`)
	for i, l := range lines {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(bytes.TrimRight(l, "\n"))
	}
	b.WriteString("]}")
	return b.Bytes()
}

// Sinks is several sinks written in turn (a log and a webhook): a write
// fails when one of them fails.
type Sinks []Sink

// Write implements Sink.
func (s Sinks) Write(line []byte) error {
	var errs []error
	for _, k := range s {
		if err := k.Write(line); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ValidateWebhookConfig reports the invalid options of the webhook
// backend with upstream's messages (validateBackendBatchOptions).
func ValidateWebhookConfig(c WebhookConfig) error {
	const name = "webhook"
	if c.Version != "" && c.Version != "audit.k8s.io/v1" {
		return fmt.Errorf("invalid group version, allowed versions are %q", []string{"audit.k8s.io/v1"})
	}
	if !slices.Contains(AllowedModes, c.Mode) {
		return fmt.Errorf("invalid audit %s mode %s, allowed modes are %q", name, c.Mode, strings.Join(AllowedModes, ","))
	}
	switch {
	case c.Mode != ModeBatch:
	case c.BufferSize <= 0:
		return fmt.Errorf("invalid audit batch %s buffer size %v, must be a positive number", name, c.BufferSize)
	case c.MaxSize <= 0:
		return fmt.Errorf("invalid audit batch %s max batch size %v, must be a positive number", name, c.MaxSize)
	case c.Throttle && c.QPS <= 0:
		return fmt.Errorf("invalid audit batch %s throttle QPS %v, must be a positive number", name, c.QPS)
	case c.Throttle && c.Burst <= 0:
		return fmt.Errorf("invalid audit batch %s throttle burst %v, must be a positive number", name, c.Burst)
	}
	return nil
}
