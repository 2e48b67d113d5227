// Package config reads cloud2mqtt's YAML configuration: strict (unknown keys
// are errors), with every error reported at once with its line, ${ENV}
// expansion, *_file secrets, and per-vendor account lists that each adapter
// decodes into its own struct through Account.Decode.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// Config is the whole file.
type Config struct {
	MQTT          MQTT              `yaml:"mqtt"`
	HomeAssistant HomeAssistant     `yaml:"homeassistant"`
	HTTP          HTTP              `yaml:"http"`
	Metrics       Metrics           `yaml:"metrics"`
	Log           Log               `yaml:"log"`
	Cloud         Cloud             `yaml:"cloud"`
	StateDir      string            `yaml:"state_dir"`
	Devices       map[string]Device `yaml:"devices"` // key "<vendor>/<id>"
	// Accounts come from the vendors: mapping (vendor → list of accounts),
	// in file order.
	Accounts []Account `yaml:"-"`

	publicURLDerived bool // http.public_url was not in the file
}

// MQTT is the broker connection.
type MQTT struct {
	URL                string         `yaml:"url"`
	BaseTopic          string         `yaml:"base_topic"`
	ClientID           string         `yaml:"client_id"`
	Username           string         `yaml:"username"`
	Password           vendors.Secret `yaml:"password"`
	CAFile             string         `yaml:"ca_file"`
	CertFile           string         `yaml:"cert_file"`
	KeyFile            string         `yaml:"key_file"`
	InsecureSkipVerify bool           `yaml:"insecure_skip_verify"`
	KeepAlive          Duration       `yaml:"keep_alive"`
	ConnectTimeout     Duration       `yaml:"connect_timeout"`
	WriteTimeout       Duration       `yaml:"write_timeout"`
}

// HomeAssistant is MQTT discovery.
type HomeAssistant struct {
	Discovery       bool     `yaml:"discovery"`
	DiscoveryPrefix string   `yaml:"discovery_prefix"`
	StatusTopic     string   `yaml:"status_topic"`
	BirthDelay      Duration `yaml:"birth_delay"`
}

// HTTP is the bridge's own server (/metrics, /healthz, vendor callbacks).
type HTTP struct {
	// Listen is host:port; empty (or "off" in the file) disables the server.
	Listen string `yaml:"listen"`
	// PublicURL is how clouds and browsers reach Listen (no trailing slash).
	PublicURL string `yaml:"public_url"`
}

// Metrics configures /metrics.
type Metrics struct {
	DeviceValues bool `yaml:"device_values"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // auto, console, json
}

// Cloud is the HTTP client every adapter uses for its cloud.
type Cloud struct {
	Timeout            Duration `yaml:"timeout"`
	CAFile             string   `yaml:"ca_file"`
	InsecureSkipVerify bool     `yaml:"insecure_skip_verify"`
}

// Device overrides what a cloud says about one device.
type Device struct {
	Name     string `yaml:"name"`
	Area     string `yaml:"area"`
	Disabled bool   `yaml:"disabled"`
}

// Defaults.
const (
	DefaultMQTTURL         = "tcp://127.0.0.1:1883"
	DefaultBaseTopic       = "cloud2mqtt"
	DefaultDiscoveryPrefix = "homeassistant"
	DefaultListen          = "127.0.0.1:8080"
	DefaultStateDir        = "./state"
)

// Default returns the configuration of an empty file.
func Default() *Config {
	c := prefilled()
	c.finish()
	return c
}

// prefilled holds the defaults a key in the file overrides; the ones derived
// from other keys are set by finish.
func prefilled() *Config {
	return &Config{
		MQTT: MQTT{
			URL:            DefaultMQTTURL,
			BaseTopic:      DefaultBaseTopic,
			KeepAlive:      Duration(30 * time.Second),
			ConnectTimeout: Duration(10 * time.Second),
			WriteTimeout:   Duration(10 * time.Second),
		},
		HomeAssistant: HomeAssistant{
			Discovery:       true,
			DiscoveryPrefix: DefaultDiscoveryPrefix,
			BirthDelay:      Duration(5 * time.Second),
		},
		HTTP:     HTTP{Listen: DefaultListen},
		Log:      Log{Level: "info", Format: "auto"},
		Cloud:    Cloud{Timeout: Duration(15 * time.Second)},
		StateDir: DefaultStateDir,
	}
}

// file is the shape of the YAML document.
type file struct {
	Config  `yaml:",inline"`
	Vendors yaml.Node `yaml:"vendors"`
}

// Load reads and parses a config file. getenv resolves ${NAME}; nil means the
// process environment.
func Load(path string, getenv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, getenv)
}

// Parse reads a config from data; source names it in errors ("source:line: msg").
// The error, if any, is an Errors listing every problem. When the YAML itself
// could be read, the config is returned along with the errors so that
// check-config can go on to decode the accounts; never run with it.
func Parse(data []byte, source string, getenv func(string) (string, bool)) (cfg *Config, err error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	c := newCollector(source)
	defer func() {
		// yaml.v3 has panicked on hostile input before; a config error is
		// never a crash.
		if r := recover(); r != nil {
			c.add(0, "cannot read the YAML: %v", r)
			cfg, err = nil, c.err()
		}
	}()

	root, ok := parseDocument(data, c)
	if !ok {
		return nil, c.err()
	}
	expandTree(root, getenv, c)
	c.nextStage()

	f := file{Config: *prefilled()}
	ft := reflect.TypeOf(f)
	resolveFiles(root, ft, "", c, map[checkKey]bool{})
	c.nextStage()
	ck := newChecker(c)
	ck.check(root, ft, "")
	c.nextStage()
	if root != nil {
		if err := root.Decode(&f); err != nil {
			c.addYAML(err, root.Line, ck)
		}
	}
	c.nextStage()

	cfg = &f.Config
	cfg.Accounts = parseVendors(&f.Vendors, source, c)
	cfg.finish()
	cfg.validate(c, ck)
	return cfg, c.err()
}

// parseDocument returns the root mapping (nil for an empty file).
func parseDocument(data []byte, c *collector) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		c.addYAML(err, 0, nil)
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			line = 0
		}
		c.add(line, "only one YAML document is allowed (remove the second ---)")
		return nil, false
	}
	root := resolve(&doc)
	if root == nil || isNull(root) && root.Kind == yaml.ScalarNode {
		return nil, true
	}
	if root.Kind != yaml.MappingNode {
		c.add(root.Line, "the config must be a mapping of keys such as mqtt: and vendors:, got %s", describeKind(root))
		return nil, false
	}
	return root, true
}

// finish fills the defaults derived from other values.
func (c *Config) finish() {
	if c.MQTT.ClientID == "" {
		c.MQTT.ClientID = "cloud2mqtt-" + discovery.SanitizeID(c.MQTT.BaseTopic)
	}
	if c.HomeAssistant.StatusTopic == "" {
		c.HomeAssistant.StatusTopic = c.HomeAssistant.DiscoveryPrefix + "/status"
	}
	if c.HTTP.Listen == "off" {
		c.HTTP.Listen = ""
	}
	if c.HTTP.PublicURL == "" && c.HTTP.Listen != "" {
		c.HTTP.PublicURL = defaultPublicURL(c.HTTP.Listen)
		c.publicURLDerived = true
	}
	for len(c.HTTP.PublicURL) > 0 && c.HTTP.PublicURL[len(c.HTTP.PublicURL)-1] == '/' {
		c.HTTP.PublicURL = c.HTTP.PublicURL[:len(c.HTTP.PublicURL)-1]
	}
}

// SetListen replaces http.listen (a command-line flag); a public URL that
// was derived from the old address follows. "" or "off" disables the server.
func (c *Config) SetListen(addr string) {
	if c.publicURLDerived {
		c.HTTP.PublicURL = ""
		c.publicURLDerived = false
	}
	c.HTTP.Listen = addr
	c.finish()
}

// Enabled reports whether the HTTP server runs.
func (h HTTP) Enabled() bool { return h.Listen != "" }

// Discovery is the topic scheme this config implies.
func (c *Config) Discovery(version string) discovery.Config {
	return discovery.Config{BaseTopic: c.MQTT.BaseTopic, Prefix: c.HomeAssistant.DiscoveryPrefix, Version: version}
}

// DeviceOverride returns the devices: entry for a device, by its vendor's own
// id (sanitized here the way topics are).
func (c *Config) DeviceOverride(vendor, id string) (Device, bool) {
	d, ok := c.Devices[vendor+"/"+discovery.SanitizeID(id)]
	return d, ok
}

// Store is the state directory's atomic store (created 0700 on first write);
// give each account its own Scoped("<vendor>-<account>") view.
func (c *Config) Store() *vendorkit.FileStore {
	return &vendorkit.FileStore{Dir: c.StateDir}
}
