package ezviz_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// TestStartDemo: the demo config runs the adapter against the drifting
// simulator: every fixture arrives and snapshots are delivered.
func TestStartDemo(t *testing.T) {
	t.Parallel()
	config, stop, err := ezvizsim.StartDemo(14, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if !strings.HasPrefix(config, "name: demo\n") {
		t.Errorf("config does not start with the account name: %q", config)
	}
	reg, _ := vendors.Lookup("ezviz")
	a, err := reg.Factory(vendors.Env{Vendor: "ezviz", Account: "demo", Log: zerolog.Nop(), HTTP: &http.Client{Timeout: 5 * time.Second}}, decodeStrict(config))
	if err != nil {
		t.Fatalf("demo config refused: %v", err)
	}
	rec := vendortest.NewRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, rec) }()
	defer func() { cancel(); <-done }()
	rec.WaitFor(t, 20*time.Second, "14 demo devices", func() bool { return len(rec.Devices()) == 14 })
	if err := a.(vendors.Refresher).Refresh(ctx, ezvizsim.IndoorPTZ); err != nil {
		t.Fatal(err)
	}
	if rec.Images()[ezvizsim.IndoorPTZ+"/camera"] == 0 {
		t.Error("no snapshot after refresh")
	}
}
