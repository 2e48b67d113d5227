package expeedsim

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// AccountConfig is the YAML mapping of one expeed account entry (no leading
// "- ") pointing at this simulator: credentials, push receiver settings and
// every device with its datapoint map.
func (s *Server) AccountConfig(name string) string {
	var b strings.Builder
	kv := func(indent, k, v string) { fmt.Fprintf(&b, "%s%s: %s\n", indent, k, v) }
	kv("", "name", strconv.Quote(name))
	kv("", "platform_key", strconv.Quote(s.opt.PlatformKey))
	kv("", "secret_key", strconv.Quote(s.opt.SecretKey))
	kv("", "base_url", strconv.Quote(s.URL()))
	kv("", "push_path", strconv.Quote(s.opt.PushPath))
	kv("", "push_secret", strconv.Quote(s.opt.PushSecret))
	kv("", "push_token", strconv.Quote(s.opt.CallbackToken))
	kv("", "push_status_online_value", strconv.Itoa(s.opt.PushOnlineValue))
	if s.opt.AuthStyle != "headers" {
		kv("", "auth_style", s.opt.AuthStyle)
	}
	if s.opt.SettingBody != "flat" {
		kv("", "setting_body", s.opt.SettingBody)
	}
	b.WriteString("devices:\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.order {
		d := s.devices[id]
		kv("  - ", "device_id", strconv.Quote(d.ID))
		kv("    ", "device_key", strconv.Quote(d.Key))
		kv("    ", "name", strconv.Quote(d.Name))
		kv("    ", "model", strconv.Quote(d.Model))
		kv("    ", "serial", strconv.Quote(d.SN))
		b.WriteString("    datapoints:\n")
		for _, p := range d.Points {
			kv("      ", p.Name, pointConfig(p))
		}
	}
	return b.String()
}

func pointConfig(p Point) string {
	var f []string
	add := func(k, v string) { f = append(f, k+": "+v) }
	num := func(v float64) string { return strconv.FormatFloat(math.Round(v*1e9)/1e9, 'g', -1, 64) }
	add("platform", p.Platform)
	if p.DeviceClass != "" {
		add("device_class", p.DeviceClass)
	}
	if p.Unit != "" {
		add("unit", strconv.Quote(p.Unit))
	}
	if p.StateClass != "" {
		add("state_class", p.StateClass)
	}
	scale := p.Scale
	if scale == 0 {
		scale = 1
	}
	if scale != 1 {
		add("scale", num(scale))
	}
	if p.Writable {
		add("writable", "true")
		if p.Platform == "number" {
			add("min", num(p.Min*scale))
			add("max", num(p.Max*scale))
			if p.Step > 0 {
				add("step", num(p.Step))
			}
		}
	}
	return "{" + strings.Join(f, ", ") + "}"
}

// StartDemo starts a simulator with the fixtures repeated to about devices
// devices, values drifting every few seconds, pushes going to bridgeURL (the
// bridge HTTP server's base URL; delivery retries until it answers) and a URL
// verification sent once the bridge is up. It returns the account config.
func StartDemo(devices int, bridgeURL string) (config string, stop func(), err error) {
	n := (devices + 2) / 3
	if n < 1 {
		n = 1
	}
	s := New(Options{PushPath: "/expeed/demo", Devices: Fixtures(n)})
	s.SetBridgeURL(bridgeURL)
	stopDrift := s.StartDrift(3 * time.Second)
	s.timers.Add(1)
	go func() {
		defer s.timers.Done()
		for {
			ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
			err := s.VerifyURL(ctx)
			cancel()
			if err == nil {
				return
			}
			select {
			case <-s.stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	stop = func() {
		stopDrift()
		s.Close()
	}
	// A local simulator needs no cloud-polite pace: a large demo starts in seconds.
	return s.AccountConfig("demo") + "requests_per_second: 10\nburst: 5\n", stop, nil
}
