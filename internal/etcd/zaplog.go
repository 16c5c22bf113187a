package etcd

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"

	"go.uber.org/zap/zapcore"
)

// slogCore is a zapcore.Core that hands etcd's zap logs to an slog.Logger.
// Once closing is set, it logs errors at debug level: etcd reports its own
// listeners closing as errors.
type slogCore struct {
	log     *slog.Logger
	min     zapcore.Level
	closing *atomic.Bool
	fields  []zapcore.Field
}

func (c *slogCore) Enabled(l zapcore.Level) bool { return l >= c.min }

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	clone := *c
	clone.fields = append(slices.Clip(c.fields), fields...)
	return &clone
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, enc.Fields[k]))
	}
	level := c.level(e.Level)
	if transient(e.Message, enc.Fields["error"]) {
		level = slog.LevelDebug
	}
	c.log.LogAttrs(context.Background(), level, e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }

// transient tells whether an etcd error log is a race of its start that
// etcd repairs by itself: a member leader within a few ticks of its start
// (embedded.go) may look at its storage version before its backend has
// committed the first term, and etcd tries again 4 s later, successfully.
func transient(msg string, err any) bool {
	s, _ := err.(string)
	return msg == "failed to update storage version" && strings.Contains(s, "missing term information")
}

func (c *slogCore) level(l zapcore.Level) slog.Level {
	switch {
	case c.closing.Load() || l < zapcore.InfoLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}
