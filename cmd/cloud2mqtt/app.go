package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/config"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/httpapi"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/metrics"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	_ "github.com/cloud2mqtt/cloud2mqtt/vendors/all"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// app is one configured bridge: MQTT client, adapters, metrics and the HTTP
// server, wired from a parsed config.
type app struct {
	cfg     *config.Config
	log     zerolog.Logger
	bridge  *bridge.Bridge
	metrics *metrics.Metrics
	server  *httpapi.Server
	ln      net.Listener // nil when the HTTP server is off
}

// buildApp wires everything without network I/O except opening the HTTP
// listener (ln, when given, is used instead). Every account error is
// reported at once.
func buildApp(cfg *config.Config, log zerolog.Logger, red *vendorkit.Redactor, ln net.Listener) (*app, error) {
	red.Add(config.Secrets(cfg)...)
	dcfg := cfg.Discovery(version)
	m := metrics.New(metrics.Options{Version: version, Commit: commit, DeviceValues: cfg.Metrics.DeviceValues})

	client, err := newMQTTClient(cfg, log)
	if err != nil {
		return nil, err
	}
	b := bridge.New(client, bridge.Options{
		Discovery:        dcfg,
		DisableDiscovery: !cfg.HomeAssistant.Discovery,
		Version:          version,
		Commit:           commit,
		Log:              log,
		Metrics:          m,
		Overrides:        overrides(cfg),
		HAStatusTopic:    cfg.HomeAssistant.StatusTopic,
		BirthDelay:       cfg.HomeAssistant.BirthDelay.Std(),
	})
	if cfg.Metrics.DeviceValues {
		m.SetDeviceValues(b.DeviceValues)
	}
	if _, err := addAccounts(b, cfg, log, red, m); err != nil {
		return nil, err
	}

	a := &app{cfg: cfg, log: log, bridge: b, metrics: m, ln: ln}
	if !cfg.HTTP.Enabled() {
		if ln != nil {
			ln.Close()
			a.ln = nil
		}
		return a, nil
	}
	a.server, err = httpapi.New(httpapi.Options{
		Metrics: m.Handler(),
		Health:  httpapi.BridgeHealth(b),
		Routes:  b.Routes(),
		Log:     log.With().Str("component", "http").Logger(),
	})
	if err != nil {
		return nil, err
	}
	if a.ln == nil {
		if a.ln, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
			return nil, fmt.Errorf("http.listen: %w", err)
		}
	}
	return a, nil
}

// addAccounts builds every configured account's adapter through its vendor's
// factory and adds it to b (when b is not nil). It returns the adapters and
// every error found, joined.
func addAccounts(b *bridge.Bridge, cfg *config.Config, log zerolog.Logger, red *vendorkit.Redactor, m *metrics.Metrics) ([]vendors.Adapter, error) {
	httpClient, err := cloudClient(cfg.Cloud)
	if err != nil {
		return nil, err
	}
	store := cfg.Store()
	var errs []error
	var adapters []vendors.Adapter
	for _, acc := range cfg.Accounts {
		reg, ok := vendors.Lookup(acc.Vendor)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: unknown vendor", acc.Path()))
			continue
		}
		env := vendors.Env{
			Vendor:    acc.Vendor,
			Account:   acc.Name,
			Log:       log.With().Str("vendor", acc.Vendor).Str("account", acc.Name).Logger(),
			Store:     store.Scoped(acc.Vendor + "-" + acc.Name),
			Metrics:   vendors.NopMetrics{},
			Redact:    red.Add,
			PublicURL: cfg.HTTP.PublicURL,
			HTTP:      httpClient,
			Now:       time.Now,
		}
		if m != nil {
			env.Metrics = m.Account(acc.Vendor, acc.Name)
		}
		acc := acc
		decode := func(into any) error {
			err := acc.Decode(into)
			// Register the account's secrets before the factory can log anything.
			red.Add(config.Secrets(into)...)
			return err
		}
		a, err := reg.Factory(env, decode)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", acc.Path(), err))
			continue
		}
		adapters = append(adapters, a)
		if b != nil {
			if err := b.AddAccount(acc.Vendor, acc.Name, a); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", acc.Path(), err))
			}
		}
	}
	return adapters, errors.Join(errs...)
}

func overrides(cfg *config.Config) map[string]bridge.DeviceOverride {
	out := make(map[string]bridge.DeviceOverride, len(cfg.Devices))
	for k, d := range cfg.Devices {
		out[k] = bridge.DeviceOverride{Name: d.Name, Area: d.Area, Disabled: d.Disabled}
	}
	return out
}

func newMQTTClient(cfg *config.Config, log zerolog.Logger) (*mqttx.Paho, error) {
	mc := cfg.MQTT
	dcfg := cfg.Discovery(version)
	opts := mqttx.Options{
		URL:            mc.URL,
		ClientID:       mc.ClientID,
		Username:       mc.Username,
		Password:       mc.Password.Reveal(),
		KeepAlive:      mc.KeepAlive.Std(),
		ConnectTimeout: mc.ConnectTimeout.Std(),
		WriteTimeout:   mc.WriteTimeout.Std(),
		// Home Assistant must see the bridge again within seconds of a broker
		// restart; paho's backoff otherwise doubles up to 30 s across outages
		// close together (TestFaultBrokerRestarts).
		MaxReconnectInterval: maxReconnectInterval,
		Will:                 bridge.WillFor(dcfg),
		Log:                  log,
	}
	if opts.ClientID == "" {
		opts.ClientID = bridge.DefaultClientID(dcfg)
	}
	if mc.UsesTLS() || mc.CAFile != "" || mc.CertFile != "" {
		t, err := mqttx.LoadTLS(mqttx.TLSFiles{CAFile: mc.CAFile, CertFile: mc.CertFile, KeyFile: mc.KeyFile, Insecure: mc.InsecureSkipVerify})
		if err != nil {
			return nil, fmt.Errorf("mqtt: %w", err)
		}
		opts.TLS = t
	}
	return mqttx.New(opts)
}

// maxReconnectInterval caps the wait between two attempts to reach the broker.
const maxReconnectInterval = time.Second

// cloudClient is the HTTP client every adapter uses for its cloud.
func cloudClient(c config.Cloud) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.CAFile != "" || c.InsecureSkipVerify {
		tc := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // the user asked for it
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, fmt.Errorf("cloud.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("cloud.ca_file %s: no PEM certificate in it", c.CAFile)
			}
			tc.RootCAs = pool
		}
		tr.TLSClientConfig = tc
	}
	return &http.Client{Transport: tr, Timeout: c.Timeout.Std()}, nil
}

// run serves HTTP and runs the bridge until ctx ends. A failing HTTP server
// stops the bridge too: the adapters' callbacks would be unreachable.
func (a *app) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var httpErr error
	if a.server != nil {
		a.log.Info().Str("listen", a.ln.Addr().String()).Str("public_url", a.cfg.HTTP.PublicURL).Msg("http server listening")
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.server.Serve(ctx, a.ln); err != nil {
				httpErr = fmt.Errorf("http server: %w", err)
				cancel()
			}
		}()
	}
	err := a.bridge.Run(ctx)
	cancel()
	wg.Wait()
	return errors.Join(err, httpErr)
}
