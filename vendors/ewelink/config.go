package ewelink

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Login modes.
const (
	loginOAuth    = "oauth"
	loginPassword = "password"
)

// config is one account block under vendors.ewelink.
type config struct {
	Name      string         `yaml:"name"`
	AppID     string         `yaml:"app_id"`
	AppSecret vendors.Secret `yaml:"app_secret"`
	Login     string         `yaml:"login"`

	Email       string         `yaml:"email"`
	Phone       string         `yaml:"phone"`
	Password    vendors.Secret `yaml:"password"`
	CountryCode string         `yaml:"country_code"`
	Region      string         `yaml:"region"`

	APIURL       string `yaml:"api_url"`
	DispatchURL  string `yaml:"dispatch_url"`
	WSURL        string `yaml:"ws_url"`
	OAuthURL     string `yaml:"oauth_url"`
	RedirectURL  string `yaml:"redirect_url"`
	CallbackPath string `yaml:"callback_path"`

	MonthlyQuota *int64        `yaml:"monthly_quota"`
	EndpointGap  time.Duration `yaml:"endpoint_gap"`
	WindowCalls  int           `yaml:"window_calls"`
	Window       time.Duration `yaml:"window"`
	WSSendGap    time.Duration `yaml:"ws_send_gap"`

	RelistInterval time.Duration `yaml:"relist_interval"`
	EnergyInterval time.Duration `yaml:"energy_interval"`
	AckTimeout     time.Duration `yaml:"ack_timeout"`
	BackoffMin     time.Duration `yaml:"backoff_min"`
	BackoffMax     time.Duration `yaml:"backoff_max"`
	StableAfter    time.Duration `yaml:"stable_after"`
	RefreshBefore  time.Duration `yaml:"refresh_before"`
}

// Defaults, from the vendor's rules (reference §4.4, §6.6, §8).
const (
	defaultOAuthURL      = "https://c2ccdn.coolkit.cc/oauth/index.html"
	defaultFreeQuota     = 50000
	defaultEndpointGap   = 500 * time.Millisecond
	defaultWindowCalls   = 300
	defaultWindow        = 5 * time.Minute
	defaultWSSendGap     = 100 * time.Millisecond
	defaultRelist        = 30 * time.Minute
	defaultEnergy        = time.Hour
	defaultAckTimeout    = 5 * time.Second
	defaultBackoffMin    = 15 * time.Second
	defaultBackoffMax    = 64 * time.Minute
	defaultStableAfter   = 5 * time.Minute
	defaultRefreshBefore = 5 * 24 * time.Hour
)

var regions = map[string]bool{"cn": true, "as": true, "us": true, "eu": true}

var countryCodeRE = regexp.MustCompile(`^\+[0-9]{1,4}$`)

// regionByCountry guesses the home region from a phone prefix; a wrong guess
// costs one 10004 redirect.
var regionByCountry = map[string]string{
	"+86": "cn", "+1": "us", "+55": "us", "+52": "us", "+54": "us", "+61": "us", "+64": "us",
	"+7": "eu", "+44": "eu", "+49": "eu", "+33": "eu", "+39": "eu", "+34": "eu", "+31": "eu",
	"+91": "as", "+81": "as", "+82": "as", "+65": "as", "+60": "as", "+66": "as", "+84": "as",
	"+63": "as", "+62": "as", "+886": "as", "+852": "as", "+971": "as",
}

// validate checks everything at once and fills in defaults.
func (c *config) validate(account string) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.AppID == "" {
		bad("app_id is required (the APPID from dev.ewelink.cc)")
	}
	if c.AppSecret == "" {
		bad("app_secret is required")
	}
	switch c.Login {
	case "":
		c.Login = loginOAuth
	case loginOAuth, loginPassword:
	default:
		bad("login must be oauth or password, not %q", c.Login)
	}
	if c.Login == loginPassword {
		if c.Email == "" && c.Phone == "" {
			bad("password login needs email or phone")
		}
		if c.Email != "" && c.Phone != "" {
			bad("set email or phone, not both")
		}
		if c.Password == "" {
			bad("password login needs password")
		}
		if !countryCodeRE.MatchString(c.CountryCode) {
			bad("country_code must look like +49 (got %q)", c.CountryCode)
		}
		if c.Phone != "" && !strings.HasPrefix(c.Phone, "+") {
			bad("phone must start with the country code, e.g. +8618023456789")
		}
	}
	if c.Region == "" {
		c.Region = regionByCountry[c.CountryCode]
		if c.Region == "" {
			c.Region = "eu"
		}
	} else if !regions[c.Region] {
		bad("region must be one of cn, as, us, eu (got %q)", c.Region)
	}
	for key, v := range map[string]string{"api_url": c.APIURL, "dispatch_url": c.DispatchURL, "ws_url": c.WSURL, "oauth_url": c.OAuthURL, "redirect_url": c.RedirectURL} {
		if v == "" {
			continue
		}
		u, err := url.Parse(strings.ReplaceAll(v, "{region}", "eu"))
		if err != nil || u.Host == "" || u.Scheme == "" {
			bad("%s is not an absolute URL: %q", key, v)
		}
	}
	if c.OAuthURL == "" {
		c.OAuthURL = defaultOAuthURL
	}
	if c.CallbackPath == "" {
		c.CallbackPath = "/ewelink/" + account + "/callback"
	} else if !strings.HasPrefix(c.CallbackPath, "/") {
		bad("callback_path must start with /")
	}
	if c.MonthlyQuota == nil {
		q := int64(0) // a paid APPID (password login) has no monthly cap
		if c.Login == loginOAuth {
			q = defaultFreeQuota
		}
		c.MonthlyQuota = &q
	} else if *c.MonthlyQuota < 0 {
		bad("monthly_quota must be 0 (none) or positive")
	}
	if c.WindowCalls < 0 {
		bad("window_calls must not be negative")
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"endpoint_gap", &c.EndpointGap, defaultEndpointGap},
		{"window", &c.Window, defaultWindow},
		{"ws_send_gap", &c.WSSendGap, defaultWSSendGap},
		{"relist_interval", &c.RelistInterval, defaultRelist},
		{"energy_interval", &c.EnergyInterval, defaultEnergy},
		{"ack_timeout", &c.AckTimeout, defaultAckTimeout},
		{"backoff_min", &c.BackoffMin, defaultBackoffMin},
		{"backoff_max", &c.BackoffMax, defaultBackoffMax},
		{"stable_after", &c.StableAfter, defaultStableAfter},
		{"refresh_before", &c.RefreshBefore, defaultRefreshBefore},
	}
	for _, d := range durations {
		switch {
		case *d.v < 0:
			bad("%s must not be negative", d.name)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if c.WindowCalls == 0 {
		c.WindowCalls = defaultWindowCalls
	}
	if c.BackoffMax < c.BackoffMin {
		bad("backoff_max (%s) is below backoff_min (%s)", c.BackoffMax, c.BackoffMin)
	}
	return errors.Join(errs...)
}

// apiBase is the REST base URL of a region.
func (c *config) apiBase(region string) string {
	if c.APIURL != "" {
		return strings.TrimSuffix(strings.ReplaceAll(c.APIURL, "{region}", region), "/")
	}
	return "https://" + region + "-apia.coolkit." + tld(region)
}

// dispatchURL is the WebSocket dispatch URL of a region.
func (c *config) dispatchURL(region string) string {
	if c.DispatchURL != "" {
		return strings.ReplaceAll(c.DispatchURL, "{region}", region)
	}
	return "https://" + region + "-dispa.coolkit." + tld(region) + "/dispatch/app"
}

func tld(region string) string {
	if region == "cn" {
		return "cn"
	}
	return "cc"
}
