package ezviz

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// config is one account entry under vendors.ezviz.
type config struct {
	Name      string         `yaml:"name"`
	AppKey    string         `yaml:"app_key"`
	AppSecret vendors.Secret `yaml:"app_secret"`
	Region    string         `yaml:"region"`
	APIURL    string         `yaml:"api_url"`
	AuthURL   string         `yaml:"auth_url"`
	Mode      string         `yaml:"mode"`

	PollInterval     time.Duration `yaml:"poll_interval"`
	StatusInterval   time.Duration `yaml:"status_interval"`
	SettingsInterval time.Duration `yaml:"settings_interval"`
	SnapshotInterval time.Duration `yaml:"snapshot_interval"`
	MotionHold       time.Duration `yaml:"motion_hold"`
	UpgradeInterval  time.Duration `yaml:"upgrade_poll_interval"`
	PTZStep          time.Duration `yaml:"ptz_step"`
	PTZPresets       *int          `yaml:"ptz_presets"`
	MaxImageBytes    int           `yaml:"max_image_bytes"`

	RateLimit          float64       `yaml:"rate_limit"`
	RateBurst          int           `yaml:"rate_burst"`
	ThrottleBackoff    time.Duration `yaml:"throttle_backoff"`
	ThrottleBackoffMax time.Duration `yaml:"throttle_backoff_max"`
	BackoffMin         time.Duration `yaml:"backoff_min"`
	BackoffMax         time.Duration `yaml:"backoff_max"`
	Timeout            time.Duration `yaml:"timeout"`
}

const (
	modeSelf  = "self"
	modeTrust = "trust"

	// captureSpacing is EZVIZ's documented minimum between two captures of
	// one camera (help 687); it is not configurable because the cloud enforces it.
	captureSpacing = 4 * time.Second
	// tokenRefreshBefore renews a token this long before it expires (§4.1 policy).
	tokenRefreshBefore = 12 * time.Hour
	defaultAuthURL     = "https://openauth.ys7.com"
)

// regions maps a region name to its token host (protocol reference §3.2).
var regions = map[string]string{
	"global": "https://open.ezvizlife.com",
	"cn":     "https://open.ys7.com",
	"eu":     "https://ieuopen.ezvizlife.com",
	"sg":     "https://isgpopen.ezvizlife.com",
	"us":     "https://iusopen.ezvizlife.com",
	"sa":     "https://isaopen.ezvizlife.com",
	"in":     "https://iindiaopen.ezvizlife.com",
	"ru":     "https://irusopen.ezvizlife.com",
}

func (c *config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Region == "" {
		c.Region = "global"
	}
	if c.Mode == "" {
		c.Mode = modeSelf
	}
	if c.AuthURL == "" {
		c.AuthURL = defaultAuthURL
	}
	def(&c.PollInterval, 30*time.Second)
	def(&c.StatusInterval, 30*time.Second)
	def(&c.SettingsInterval, 30*time.Minute)
	def(&c.MotionHold, 60*time.Second)
	def(&c.UpgradeInterval, 10*time.Second)
	def(&c.PTZStep, 500*time.Millisecond)
	def(&c.ThrottleBackoff, time.Minute)
	def(&c.ThrottleBackoffMax, time.Hour)
	def(&c.BackoffMin, 2*time.Second)
	def(&c.BackoffMax, 5*time.Minute)
	def(&c.Timeout, 20*time.Second)
	if c.PTZPresets == nil {
		c.PTZPresets = vendors.IntPtr(4)
	}
	if c.MaxImageBytes == 0 {
		c.MaxImageBytes = 2 << 20
	}
	if c.RateLimit == 0 {
		c.RateLimit = 2
	}
	if c.RateBurst == 0 {
		c.RateBurst = 2
	}
}

// validate reports every problem at once; it runs after setDefaults.
func (c *config) validate(publicURL string) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(c.AppKey) == "" {
		bad("app_key is required")
	}
	if c.AppSecret.Reveal() == "" {
		bad("app_secret is required")
	}
	if _, ok := regions[c.Region]; !ok {
		bad("region %q is not one of global, cn, eu, sg, us, sa, in, ru", c.Region)
	}
	for key, u := range map[string]string{"api_url": c.APIURL, "auth_url": c.AuthURL} {
		if u != "" && !httpURL(u) {
			bad("%s must be an http(s) URL without query", key)
		}
	}
	switch c.Mode {
	case modeSelf:
	case modeTrust:
		if publicURL == "" {
			bad("mode trust needs the bridge's public URL (http.public_url) for the authorization redirect and callback")
		}
	default:
		bad("mode %q is not self or trust", c.Mode)
	}
	positive := map[string]time.Duration{
		"poll_interval": c.PollInterval, "status_interval": c.StatusInterval,
		"settings_interval": c.SettingsInterval, "motion_hold": c.MotionHold,
		"upgrade_poll_interval": c.UpgradeInterval, "ptz_step": c.PTZStep,
		"throttle_backoff": c.ThrottleBackoff, "throttle_backoff_max": c.ThrottleBackoffMax,
		"backoff_min": c.BackoffMin, "backoff_max": c.BackoffMax, "timeout": c.Timeout,
	}
	for key, d := range positive {
		if d < 0 {
			bad("%s must not be negative", key)
		}
	}
	if c.SnapshotInterval < 0 || (c.SnapshotInterval > 0 && c.SnapshotInterval < captureSpacing) {
		bad("snapshot_interval must be 0 (on demand) or at least %s", captureSpacing)
	}
	if c.ThrottleBackoffMax < c.ThrottleBackoff {
		bad("throttle_backoff_max must be at least throttle_backoff")
	}
	if c.BackoffMax < c.BackoffMin {
		bad("backoff_max must be at least backoff_min")
	}
	if *c.PTZPresets < 0 || *c.PTZPresets > 64 {
		bad("ptz_presets must be between 0 and 64")
	}
	if c.MaxImageBytes < 1024 || c.MaxImageBytes > 16<<20 {
		bad("max_image_bytes must be between 1024 and 16777216")
	}
	if c.RateLimit < 0 || c.RateLimit > 100 {
		bad("rate_limit must be between 0 and 100 requests per second")
	}
	if c.RateBurst < 1 || c.RateBurst > 100 {
		bad("rate_burst must be between 1 and 100")
	}
	return errors.Join(errs...)
}

// tokenHost is where token requests go.
func (c *config) tokenHost() string {
	if c.APIURL != "" {
		return strings.TrimRight(c.APIURL, "/")
	}
	return regions[c.Region]
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.User == nil
}

// acceptableArea reports whether a token reply's areaDomain may receive the
// token: an EZVIZ host, or any http(s) host when api_url was set by hand
// (proxies, simulators).
func (c *config) acceptableArea(area string) bool {
	u, err := url.Parse(area)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return false
	}
	if c.APIURL != "" {
		return u.Scheme == "http" || u.Scheme == "https"
	}
	h := strings.ToLower(u.Hostname())
	return u.Scheme == "https" && (strings.HasSuffix(h, ".ezvizlife.com") || strings.HasSuffix(h, ".ys7.com") || strings.HasSuffix(h, ".ezviz.com"))
}
