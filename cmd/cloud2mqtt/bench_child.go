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
	var heapErr error
	heapDone := make(chan struct{})
	go func() {
		defer close(heapDone)
		_, _ = io.Copy(io.Discard, os.Stdin)
		// The heap profile is taken while every device is still held.
		if memProfile != "" {
			heapErr = writeHeapProfile(memProfile)
		}
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
	if ctx.Err() != nil {
		<-heapDone
	}
	if heapErr != nil {
		return fmt.Errorf("heap profile: %w", heapErr)
	}
	return runErr
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
