package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/config"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// defaultConfigPath is where run and check-config look without --config.
func defaultConfigPath() string {
	if p := os.Getenv("CLOUD2MQTT_CONFIG"); p != "" {
		return p
	}
	return "config.yaml"
}

func runCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	path := fs.String("config", defaultConfigPath(), "config file (env CLOUD2MQTT_CONFIG)")
	listen := fs.String("listen", "", `override http.listen ("off" disables the HTTP server)`)
	level := fs.String("log-level", "", "override log.level: debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, nil)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.SetListen(*listen)
	}
	if *level != "" {
		cfg.Log.Level = *level
	}
	red := &vendorkit.Redactor{}
	log, err := newLogger(stderr, cfg.Log.Level, cfg.Log.Format, red)
	if err != nil {
		return err
	}
	a, err := buildApp(cfg, log, red, nil)
	if err != nil {
		return err
	}
	log.Info().Str("version", version).Str("mqtt", cfg.MQTT.URL).Str("base_topic", cfg.MQTT.BaseTopic).
		Int("accounts", len(cfg.Accounts)).Msg("cloud2mqtt starting")
	if len(cfg.Accounts) == 0 {
		log.Warn().Msg("no vendor account configured: only the bridge itself is published (see cloud2mqtt sample-config)")
	}
	return a.run(ctx)
}

// checkConfigCmd validates a config and every account through its vendor's
// factory (which does no network I/O), printing every problem at once.
func checkConfigCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check-config", stderr)
	path := fs.String("config", defaultConfigPath(), "config file (env CLOUD2MQTT_CONFIG)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, nil)
	if cfg == nil {
		return err
	}
	red := &vendorkit.Redactor{}
	_, accErr := addAccounts(nil, cfg, zerolog.Nop(), red, nil)
	if err = errors.Join(err, accErr); err != nil {
		return fmt.Errorf("%s is not valid:\n%s", *path, red.String(err.Error()))
	}
	fmt.Fprintf(stdout, "%s: OK (%d accounts)\n", *path, len(cfg.Accounts))
	return nil
}

func sampleConfigCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if err := parseFlags(newFlagSet("sample-config", stderr), args); err != nil {
		return err
	}
	_, err := io.WriteString(stdout, config.Sample(version))
	return err
}
