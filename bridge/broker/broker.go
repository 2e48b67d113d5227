// Package broker embeds a mochi-mqtt broker for the demo and for tests that
// run without an external broker.
package broker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/rs/zerolog"
)

// Broker is a running embedded broker that lets every client in.
type Broker struct {
	srv       *mqtt.Server
	tcp       *listeners.TCP
	closeOnce sync.Once
}

// Start listens on addr ("127.0.0.1:1883", or port 0 for any free port) and
// serves until Close.
func Start(addr string, log zerolog.Logger) (*Broker, error) {
	log = log.With().Str("component", "broker").Logger()
	srv := mqtt.New(&mqtt.Options{
		InlineClient: false,
		Logger:       slog.New(quieter{zerolog.NewSlogHandler(log)}),
	})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})
	if err := srv.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("broker listen %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("broker: %w", err)
	}
	log.Debug().Str("addr", tcp.Address()).Msg("embedded broker listening")
	return &Broker{srv: srv, tcp: tcp}, nil
}

// Addr is the listening address (host:port).
func (b *Broker) Addr() string { return b.tcp.Address() }

// URL is the address as a tcp:// URL for mqttx.
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// Close disconnects every client and stops listening.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() { _ = b.srv.Close() })
	return nil
}

// quieter moves mochi's Info chatter (every connect and disconnect) to Debug.
type quieter struct{ h slog.Handler }

func (q quieter) shift(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}

func (q quieter) Enabled(ctx context.Context, l slog.Level) bool {
	return q.h.Enabled(ctx, q.shift(l))
}

func (q quieter) Handle(ctx context.Context, r slog.Record) error {
	r.Level = q.shift(r.Level)
	return q.h.Handle(ctx, r)
}

func (q quieter) WithAttrs(a []slog.Attr) slog.Handler { return quieter{q.h.WithAttrs(a)} }
func (q quieter) WithGroup(n string) slog.Handler      { return quieter{q.h.WithGroup(n)} }
