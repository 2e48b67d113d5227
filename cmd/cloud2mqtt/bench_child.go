package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/config"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// benchChild is the bench's bridge process: the config the bench wrote,
// wired by buildApp as run does, until stdin closes (the bench ended or
// died). It can profile itself.
func benchChild(ctx context.Context, path, cpuProfile, memProfile string, stderr io.Writer) error {
	cfg, err := config.Load(path, os.LookupEnv)
	if err != nil {
		return err
	}
	red := &vendorkit.Redactor{}
	log, err := newLogger(stderr, cfg.Log.Level, "json", red)
	if err != nil {
		return err
	}
	a, err := buildApp(cfg, log, red, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	runErr := a.run(ctx)
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return fmt.Errorf("heap profile: %w", err)
		}
	}
	return runErr
}
