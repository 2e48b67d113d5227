package main

import (
	"context"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/broker"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/config"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed/expeedsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// demoSim is one simulated cloud account the demo runs.
type demoSim struct {
	vendor string
	start  func(devices int, bridgeURL string) (account string, stop func(), err error)
}

// demoSims are the simulators the demo and the bench start, in this order.
var demoSims = []demoSim{
	{"ewelink", ewelinksim.StartDemo},
	{"expeed", expeedsim.StartDemo},
	{"ezviz", ezvizsim.StartDemo},
	{"shelly", shellysim.StartDemo},
	{"shelly", func(devices int, _ string) (string, func(), error) { return shellysim.StartDemoCloud(devices) }},
}

// demoOptions shape the demo's world.
type demoOptions struct {
	MQTTURL         string // external broker; empty starts the embedded one on BrokerAddr
	BrokerAddr      string
	HTTPAddr        string
	Devices         int // per simulated account
	BaseTopic       string
	DiscoveryPrefix string
	StateDir        string
	LogLevel        string
	Vendors         map[string]bool // nil: every vendor
}

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	var o demoOptions
	fs.StringVar(&o.MQTTURL, "mqtt", "", "use this broker (e.g. tcp://127.0.0.1:1883)")
	fs.StringVar(&o.BrokerAddr, "listen", "", "start the embedded broker on this address (default: use a broker already on 127.0.0.1:1883, else embed one there)")
	fs.StringVar(&o.HTTPAddr, "http", "127.0.0.1:8080", "address of the bridge's HTTP server (/metrics, /healthz, callbacks)")
	fs.IntVar(&o.Devices, "devices", 12, "devices per simulated account")
	fs.StringVar(&o.BaseTopic, "base-topic", config.DefaultBaseTopic, "MQTT base topic")
	fs.StringVar(&o.DiscoveryPrefix, "discovery-prefix", config.DefaultDiscoveryPrefix, "Home Assistant discovery prefix")
	fs.StringVar(&o.StateDir, "state-dir", "", "state directory (default: a temporary one, removed at exit)")
	fs.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
	vendorList := fs.String("vendors", "", "comma-separated vendors to simulate (default: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.Devices < 1 {
		return fmt.Errorf("%w: --devices must be at least 1", errUsage)
	}
	if *vendorList != "" {
		o.Vendors = map[string]bool{}
		for _, v := range strings.Split(*vendorList, ",") {
			o.Vendors[strings.TrimSpace(v)] = true
		}
	}
	red := &vendorkit.Redactor{}
	log, err := newLogger(stderr, o.LogLevel, "auto", red)
	if err != nil {
		return err
	}
	if o.MQTTURL != "" && o.BrokerAddr != "" {
		return fmt.Errorf("%w: --mqtt and --listen exclude each other", errUsage)
	}
	if o.MQTTURL == "" && o.BrokerAddr == "" {
		o.BrokerAddr = localBroker
		if brokerListening(localBroker) {
			o.MQTTURL = "tcp://" + localBroker
			fmt.Fprintf(stdout, "using the MQTT broker already listening on %s\n", localBroker)
		} else {
			fmt.Fprintf(stdout, "no MQTT broker on %s: starting the embedded one there\n", localBroker)
		}
	}
	d, err := startDemo(o, log, red)
	if err != nil {
		return err
	}
	defer d.close()
	d.banner(stdout)
	return d.app.run(ctx)
}

const localBroker = "127.0.0.1:1883"

// brokerListening reports whether something accepts TCP connections on addr.
func brokerListening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// demo is a running demo world: broker, simulators, and the bridge wired to them.
type demo struct {
	app       *app
	cfg       *config.Config
	brokerURL string
	bridgeURL string
	closers   []func()
}

func (d *demo) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

// startDemo starts the broker (unless one is given), the simulators and
// builds the bridge on a config assembled from the simulators' accounts and
// read through the same parser as a user's file.
func startDemo(o demoOptions, log zerolog.Logger, red *vendorkit.Redactor) (_ *demo, err error) {
	d := &demo{brokerURL: o.MQTTURL}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if d.brokerURL == "" {
		b, err := broker.Start(o.BrokerAddr, log.With().Str("component", "broker").Logger())
		if err != nil {
			return d, fmt.Errorf("embedded broker on %s: %w (is another broker running there? use --mqtt tcp://%s or --listen another address)", o.BrokerAddr, err, o.BrokerAddr)
		}
		d.closers = append(d.closers, func() { b.Close() })
		d.brokerURL = b.URL()
	}
	ln, err := net.Listen("tcp", o.HTTPAddr)
	if err != nil {
		return d, fmt.Errorf("http %s: %w", o.HTTPAddr, err)
	}
	d.closers = append(d.closers, func() { ln.Close() })
	d.bridgeURL = "http://" + reachable(ln.Addr())

	stateDir := o.StateDir
	if stateDir == "" {
		if stateDir, err = os.MkdirTemp("", "cloud2mqtt-demo-"); err != nil {
			return d, err
		}
		dir := stateDir
		d.closers = append(d.closers, func() { os.RemoveAll(dir) })
	}

	accounts := map[string][]string{}
	var order []string
	for _, s := range demoSims {
		if o.Vendors != nil && !o.Vendors[s.vendor] {
			continue
		}
		account, stop, err := s.start(o.Devices, d.bridgeURL)
		if err != nil {
			return d, fmt.Errorf("%s simulator: %w", s.vendor, err)
		}
		d.closers = append(d.closers, stop)
		if _, seen := accounts[s.vendor]; !seen {
			order = append(order, s.vendor)
		}
		accounts[s.vendor] = append(accounts[s.vendor], account)
	}

	yml := demoConfig(d.brokerURL, o.BaseTopic, o.DiscoveryPrefix, ln.Addr().String(), d.bridgeURL, stateDir, o.LogLevel, order, accounts)
	d.cfg, err = config.Parse([]byte(yml), "demo config", func(string) (string, bool) { return "", false })
	if err != nil {
		return d, fmt.Errorf("demo config: %w", err)
	}
	d.app, err = buildApp(d.cfg, log, red, ln)
	if err != nil {
		return d, err
	}
	return d, nil
}

// demoConfig is the YAML a user would write for the simulated accounts.
func demoConfig(mqttURL, baseTopic, prefix, listen, publicURL, stateDir, logLevel string, order []string, accounts map[string][]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mqtt:\n  url: %q\n  base_topic: %q\n", mqttURL, baseTopic)
	fmt.Fprintf(&b, "homeassistant:\n  discovery_prefix: %q\n  birth_delay: 1s\n", prefix)
	fmt.Fprintf(&b, "http:\n  listen: %q\n  public_url: %q\n", listen, publicURL)
	fmt.Fprintf(&b, "state_dir: %q\nlog:\n  level: %q\n", stateDir, logLevel)
	b.WriteString("vendors:\n")
	for _, v := range order {
		fmt.Fprintf(&b, "  %s:\n", v)
		for _, acc := range accounts[v] {
			b.WriteString(listItem(acc, "    "))
		}
	}
	return b.String()
}

// listItem turns a YAML mapping at column 0 into a list item indented by indent.
func listItem(mapping, indent string) string {
	var b strings.Builder
	for i, line := range strings.Split(strings.TrimRight(mapping, "\n"), "\n") {
		if i == 0 {
			b.WriteString(indent + "- " + line + "\n")
		} else {
			b.WriteString(indent + "  " + line + "\n")
		}
	}
	return b.String()
}

// reachable turns a listener address into one a local client can dial
// (0.0.0.0 and :: become loopback).
func reachable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func (d *demo) banner(w io.Writer) {
	base := d.cfg.MQTT.BaseTopic
	host, port := "127.0.0.1", "1883"
	if u, err := neturl.Parse(d.brokerURL); err == nil && u.Hostname() != "" {
		host, port = u.Hostname(), u.Port()
	}
	fmt.Fprintf(w, `cloud2mqtt demo: %d simulated cloud accounts, real adapters, MQTT broker %s
  watch everything:   mosquitto_sub -h %s -p %s -v -t '%s/#'
  device list:        %s/bridge/devices (retained)
  send a command:     mosquitto_pub -h %s -p %s -t '%s/ewelink/1000a00002/set/switch_2' -m ON
  Home Assistant:     point its MQTT integration at the broker; devices appear by discovery
  metrics and health: %s/metrics  %s/healthz
Ctrl-C stops it.
`, len(d.cfg.Accounts), d.brokerURL, host, port, base, base, host, port, base, d.bridgeURL, d.bridgeURL)
}
