package bridge

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// Options configure a Bridge. Zero values take the defaults noted.
type Options struct {
	// Discovery names the base topic, the discovery prefix and the version
	// in the discovery origin.
	Discovery discovery.Config
	// DisableDiscovery publishes no Home Assistant discovery configs and
	// skips the start-up sweep.
	DisableDiscovery bool
	Version, Commit  string
	Log              zerolog.Logger
	// Metrics receives the bridge's counters; nil records nothing.
	Metrics Metrics
	// Overrides are keyed "<vendor>/<id>" (the id as in topics).
	Overrides map[string]DeviceOverride
	// HAStatusTopic is Home Assistant's birth topic (default <prefix>/status).
	HAStatusTopic string
	// CommandQueue bounds the queued commands per account (default 64).
	CommandQueue int
	// CommandWorkers is the number of commands one account runs at once
	// (default 4); commands for one device always run in order.
	CommandWorkers int
	// CommandTimeout bounds one command at the cloud (default 30s).
	CommandTimeout time.Duration
	// BirthDelay is the longest random wait after Home Assistant comes
	// online before everything is published again (default 5s).
	BirthDelay time.Duration
	// SweepWait is how long retained discovery configs are collected at
	// start-up (default 2s).
	SweepWait time.Duration
	// MaxImage caps a camera image (default 4 MiB); larger ones are dropped.
	MaxImage int
	// RestartBackoff paces restarts of an adapter whose Run failed
	// (default 1s doubling to 5m, floor 1s).
	RestartBackoff vendorkit.Backoff
	// ListInterval is the shortest time between two publishes of
	// bridge/info or bridge/devices (default 1s).
	ListInterval time.Duration
	// StopTimeout bounds the wait for adapters to return at shutdown
	// (default 10s).
	StopTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DeviceOverride is the user's configuration of one device.
type DeviceOverride struct {
	Name     string
	Area     string
	Disabled bool
}

// Limits on what the bridge accepts from MQTT.
const (
	MaxCommandSize = 64 << 10
	maxQueuedOut   = 1024
)

// CodeRetained is the result code of a retained command, which the bridge
// never carries out (it would replay a stale command on every restart).
const CodeRetained = "RETAINED_COMMAND"

func (o *Options) defaults() {
	if o.Discovery.BaseTopic == "" {
		o.Discovery.BaseTopic = "cloud2mqtt"
	}
	if o.Discovery.Prefix == "" {
		o.Discovery.Prefix = "homeassistant"
	}
	if o.Discovery.Version == "" {
		o.Discovery.Version = o.Version
	}
	if o.HAStatusTopic == "" {
		o.HAStatusTopic = o.Discovery.Prefix + "/status"
	}
	if o.CommandQueue <= 0 {
		o.CommandQueue = 64
	}
	if o.CommandWorkers <= 0 {
		o.CommandWorkers = 4
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.CommandTimeout, 30*time.Second)
	def(&o.BirthDelay, 5*time.Second)
	def(&o.SweepWait, 2*time.Second)
	def(&o.ListInterval, time.Second)
	def(&o.StopTimeout, 10*time.Second)
	if o.MaxImage <= 0 {
		o.MaxImage = 4 << 20
	}
	if o.RestartBackoff.Base <= 0 {
		o.RestartBackoff = vendorkit.Backoff{Base: time.Second, Max: 5 * time.Minute, Floor: time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = nopMetrics{}
	}
}

// DefaultClientID is a stable MQTT client id for a base topic, so the
// broker keeps the bridge's session (and the commands queued in it) across
// restarts, and two instances with different base topics do not collide.
func DefaultClientID(c discovery.Config) string {
	if c.BaseTopic == "" {
		c.BaseTopic = discovery.DefaultBaseTopic
	}
	return "cloud2mqtt-" + discovery.SanitizeID(c.BaseTopic)
}

// WillFor is the last will to set on the bridge's MQTT client: bridge/state
// goes "offline" when the connection is lost without a clean shutdown.
func WillFor(c discovery.Config) *mqttx.Will {
	if c.BaseTopic == "" {
		c.BaseTopic = discovery.DefaultBaseTopic
	}
	return &mqttx.Will{Topic: c.BridgeTopic("state"), Payload: []byte("offline"), Retained: true, QoS: 1}
}
