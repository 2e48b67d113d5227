package expeed

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// config is one account entry under vendors.expeed.
type config struct {
	Name        string         `yaml:"name"`
	PlatformKey string         `yaml:"platform_key"`
	SecretKey   vendors.Secret `yaml:"secret_key"`
	BaseURL     string         `yaml:"base_url"`

	// Ambiguities of the seed, resolved by configuration (see docs/vendors/expeed.md).
	AuthStyle   string `yaml:"auth_style"`   // headers | single_header | query
	SettingBody string `yaml:"setting_body"` // flat | wrapped
	Timezone    string `yaml:"timezone"`

	TokenBudget        int           `yaml:"token_budget"`
	TokenRefreshMargin time.Duration `yaml:"token_refresh_margin"`

	RequestsPerSecond float64       `yaml:"requests_per_second"`
	Burst             int           `yaml:"burst"`
	SafetyPoll        time.Duration `yaml:"safety_poll"`
	CommandTimeout    time.Duration `yaml:"command_timeout"`
	BackoffMin        time.Duration `yaml:"backoff_min"`
	BackoffMax        time.Duration `yaml:"backoff_max"`
	HistoryMaxPages   int           `yaml:"history_max_pages"`

	PushPath              string         `yaml:"push_path"`
	PushSecret            vendors.Secret `yaml:"push_secret"`
	PushToken             vendors.Secret `yaml:"push_token"`
	PushSignatureVariants []string       `yaml:"push_signature_variants"`
	PushMaxSkew           *time.Duration `yaml:"push_max_skew"`
	PushTimestampUnit     string         `yaml:"push_timestamp_unit"` // auto | s | ms
	PushStatusOnlineValue *int           `yaml:"push_status_online_value"`
	PushCalibrate         *bool          `yaml:"push_calibrate"`
	PushCalibrateAfter    int            `yaml:"push_calibrate_after"`
	PushCalibrateDelay    time.Duration  `yaml:"push_calibrate_delay"`
	PushCheckDeviceKey    *bool          `yaml:"push_check_device_key"`
	PushAllowedNetworks   []string       `yaml:"push_allowed_networks"`
	PushTrustedProxies    []string       `yaml:"push_trusted_proxies"`

	LearnDevices bool           `yaml:"learn_devices"`
	Manufacturer string         `yaml:"manufacturer"`
	Devices      []deviceConfig `yaml:"devices"`
}

type deviceConfig struct {
	DeviceID   string                     `yaml:"device_id"`
	DeviceKey  vendors.Secret             `yaml:"device_key"`
	Name       string                     `yaml:"name"`
	Model      string                     `yaml:"model"`
	Serial     string                     `yaml:"serial"`
	Datapoints map[string]datapointConfig `yaml:"datapoints"`
}

type datapointConfig struct {
	Key         string   `yaml:"key"`
	Name        string   `yaml:"name"`
	Main        bool     `yaml:"main"`
	Platform    string   `yaml:"platform"`
	DeviceClass string   `yaml:"device_class"`
	Unit        string   `yaml:"unit"`
	StateClass  string   `yaml:"state_class"`
	Category    string   `yaml:"entity_category"`
	Icon        string   `yaml:"icon"`
	Scale       float64  `yaml:"scale"`
	Writable    bool     `yaml:"writable"`
	Min         *float64 `yaml:"min"`
	Max         *float64 `yaml:"max"`
	Step        *float64 `yaml:"step"`
	// Options maps raw values to select options: {0: eco, 1: comfort}.
	Options map[string]string `yaml:"options"`
	// On and Off are the raw values of a switch (default 1 and 0).
	On  any `yaml:"on"`
	Off any `yaml:"off"`
}

// Signature variants: what MD5 hashes in MD5(SHA1(token+nonce+timestamp)).
const (
	sigHexLower = "md5_hex_lower"
	sigHexUpper = "md5_hex_upper"
	sigRaw      = "md5_raw"
)

const defaultBaseURL = "https://api.iot-expeed.com/v1"

var secretSegment = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)
var pathPattern = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// settings is the validated configuration with defaults applied.
type settings struct {
	config
	zone           *time.Location
	pushRoute      string
	maxSkew        time.Duration
	onlineValue    int64
	calibrate      bool
	checkKey       bool
	allowed        []netip.Prefix
	trustedProxies []netip.Prefix
}

func (c *config) validate(account string) (*settings, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s := &settings{config: *c}
	if s.PlatformKey == "" {
		bad("platform_key is required")
	}
	if s.SecretKey == "" {
		bad("secret_key is required")
	}
	if s.BaseURL == "" {
		s.BaseURL = defaultBaseURL
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	if u, err := url.Parse(s.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		bad("base_url must be an http(s) URL without query")
	}
	switch s.AuthStyle {
	case "":
		s.AuthStyle = "headers"
	case "headers", "single_header", "query":
	default:
		bad("auth_style must be headers, single_header or query")
	}
	switch s.SettingBody {
	case "":
		s.SettingBody = "flat"
	case "flat", "wrapped":
	default:
		bad("setting_body must be flat or wrapped")
	}
	if s.Timezone == "" {
		s.Timezone = "Asia/Shanghai"
	}
	if z, err := loadZone(s.Timezone); err != nil {
		bad("%v", err)
	} else {
		s.zone = z
	}
	if s.TokenBudget == 0 {
		s.TokenBudget = 50
	}
	if s.TokenBudget < 1 || s.TokenBudget > 200 {
		bad("token_budget must be 1–200 (the cloud allows 200 token calls a day)")
	}
	if s.TokenRefreshMargin < 0 {
		bad("token_refresh_margin must not be negative")
	}
	if s.RequestsPerSecond == 0 {
		s.RequestsPerSecond = 2
	}
	if s.RequestsPerSecond < 0 || s.RequestsPerSecond > 50 {
		bad("requests_per_second must be in (0, 50]")
	}
	if s.Burst == 0 {
		s.Burst = 2
	}
	if s.Burst < 1 {
		bad("burst must be at least 1")
	}
	def := func(d *time.Duration, v time.Duration, name string) {
		if *d == 0 {
			*d = v
		}
		if *d < 0 {
			bad("%s must not be negative", name)
		}
	}
	def(&s.SafetyPoll, 10*time.Minute, "safety_poll")
	def(&s.CommandTimeout, 30*time.Second, "command_timeout")
	def(&s.BackoffMin, 2*time.Second, "backoff_min")
	def(&s.BackoffMax, 5*time.Minute, "backoff_max")
	def(&s.PushCalibrateDelay, 5*time.Second, "push_calibrate_delay")
	if s.BackoffMax < s.BackoffMin {
		bad("backoff_max must not be below backoff_min")
	}
	if s.HistoryMaxPages == 0 {
		s.HistoryMaxPages = 10
	}
	if s.HistoryMaxPages < 1 || s.HistoryMaxPages > 100 {
		bad("history_max_pages must be 1–100")
	}

	if s.PushPath == "" {
		s.PushPath = "/expeed/" + safeSegment(account)
	}
	s.PushPath = strings.TrimRight(s.PushPath, "/")
	if !pathPattern.MatchString(s.PushPath) {
		bad("push_path must be an absolute path of plain segments")
	}
	if !secretSegment.MatchString(string(s.PushSecret)) {
		bad("push_secret is required: 16–128 characters of A-Z a-z 0-9 _ -, unguessable (it is part of the push URL)")
	}
	s.pushRoute = s.PushPath + "/" + string(s.PushSecret)
	if s.PushToken == "" {
		bad("push_token is required (the token entered on expeed's configuration page; it signs the URL verification)")
	}
	if len(s.PushSignatureVariants) == 0 {
		s.PushSignatureVariants = []string{sigHexLower, sigHexUpper, sigRaw}
	}
	for _, v := range s.PushSignatureVariants {
		if v != sigHexLower && v != sigHexUpper && v != sigRaw {
			bad("push_signature_variants: %q is not one of %s, %s, %s", v, sigHexLower, sigHexUpper, sigRaw)
		}
	}
	s.maxSkew = 10 * time.Minute
	if s.PushMaxSkew != nil {
		s.maxSkew = *s.PushMaxSkew
		if s.maxSkew < 0 {
			bad("push_max_skew must not be negative (0 turns the check off)")
		}
	}
	switch s.PushTimestampUnit {
	case "":
		s.PushTimestampUnit = "auto"
	case "auto", "s", "ms":
	default:
		bad("push_timestamp_unit must be auto, s or ms")
	}
	if s.PushStatusOnlineValue != nil {
		if v := *s.PushStatusOnlineValue; v != 0 && v != 1 {
			bad("push_status_online_value must be 0 or 1")
		}
		s.onlineValue = int64(*s.PushStatusOnlineValue)
	}
	s.calibrate = s.PushCalibrate == nil || *s.PushCalibrate
	s.checkKey = s.PushCheckDeviceKey == nil || *s.PushCheckDeviceKey
	if s.PushCalibrateAfter == 0 {
		s.PushCalibrateAfter = 3
	}
	if s.PushCalibrateAfter < 1 {
		bad("push_calibrate_after must be at least 1")
	}
	var err error
	if s.allowed, err = prefixes(s.PushAllowedNetworks); err != nil {
		bad("push_allowed_networks: %v", err)
	}
	if s.trustedProxies, err = prefixes(s.PushTrustedProxies); err != nil {
		bad("push_trusted_proxies: %v", err)
	}
	if s.Manufacturer == "" {
		s.Manufacturer = "expeed"
	}
	seen := map[string]bool{}
	for i, d := range s.Devices {
		switch {
		case d.DeviceID == "":
			bad("devices[%d]: device_id is required", i)
		case seen[d.DeviceID]:
			bad("devices[%d]: device_id %q appears twice", i, d.DeviceID)
		}
		seen[d.DeviceID] = true
		if d.DeviceKey == "" {
			bad("devices[%d] (%s): device_key is required", i, d.DeviceID)
		}
	}
	if len(s.Devices) == 0 && !s.LearnDevices {
		bad("devices: list at least one device, or set learn_devices: true (expeed has no device list API)")
	}
	return s, errors.Join(errs...)
}

func prefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a CIDR or an address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// safeSegment makes an account name usable as a path segment.
func safeSegment(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "default"
	}
	return string(b)
}
