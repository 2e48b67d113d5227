package shelly

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// config is one account entry. tag+token select the Integrator API,
// server+auth_key the Cloud Control API v2.
type config struct {
	Name string `yaml:"name"`

	// Integrator API.
	Tag                string         `yaml:"tag"`
	Token              vendors.Secret `yaml:"token"`
	APIURL             string         `yaml:"api_url"`
	ConsentPath        string         `yaml:"consent_path"`
	ConsentPage        string         `yaml:"consent_page"`
	ConsentPublicKey   string         `yaml:"consent_public_key"`
	WSScheme           string         `yaml:"ws_scheme"`
	WSPort             int            `yaml:"ws_port"`
	CommandTimeout     time.Duration  `yaml:"command_timeout"`
	VerifyInterval     time.Duration  `yaml:"verify_interval"`
	PingInterval       time.Duration  `yaml:"ping_interval"`
	TokenRefreshBefore time.Duration  `yaml:"token_refresh_before"`

	// Cloud Control API v2.
	Server            string         `yaml:"server"`
	AuthKey           vendors.Secret `yaml:"auth_key"`
	Devices           []string       `yaml:"devices"`
	PollInterval      time.Duration  `yaml:"poll_interval"`
	RequestInterval   time.Duration  `yaml:"request_interval"`
	SettingsInterval  time.Duration  `yaml:"settings_interval"`
	UnauthorizedRetry time.Duration  `yaml:"unauthorized_retry"`

	// Both.
	BackoffBase    time.Duration `yaml:"backoff_base"`
	BackoffMax     time.Duration `yaml:"backoff_max"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

const (
	defaultAPIURL      = "https://api.shelly.cloud"
	defaultConsentPage = "https://my.shelly.cloud/integrator.html"
	// minRequestInterval is the Cloud Control API's documented limit: one
	// request per second per account.
	minRequestInterval = time.Second
)

// shellyPublicKey verifies the SCL-Trust header of consent callbacks
// (published in the Integrator API docs and Allterco's java-verify sample).
const shellyPublicKey = `-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE3Kx+6C/0ZbnelYUgucUo4/X4xt1NCmEL
coyLpgkuLHume4VLZnQjtXeYgzr2FUdsO/ip8SzssSu3CEU9ArvB+yGIlW7l1yLt
wHVs/2zXrL0riL++7jdoQCpTGanFVzpM
-----END PUBLIC KEY-----`

type accountKind int

const (
	kindIntegrator accountKind = iota + 1
	kindCloud
)

// kind picks the account type from the keys given.
func (c *config) kind() (accountKind, error) {
	itg := c.Tag != "" || c.Token != ""
	cloud := c.Server != "" || c.AuthKey != ""
	switch {
	case itg && cloud:
		return 0, errors.New("set either tag+token (Integrator API) or server+auth_key (Cloud Control API), not both")
	case itg:
		return kindIntegrator, nil
	case cloud:
		return kindCloud, nil
	}
	return 0, errors.New("no credentials: set tag+token (Integrator API) or server+auth_key (Cloud Control API)")
}

func (c *config) validate(account string) (accountKind, error) {
	k, err := c.kind()
	if err != nil {
		return 0, err
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	positive := func(name string, d time.Duration) {
		if d < 0 {
			bad("%s must not be negative", name)
		}
	}
	for name, d := range map[string]time.Duration{
		"backoff_base": c.BackoffBase, "backoff_max": c.BackoffMax, "request_timeout": c.RequestTimeout,
		"command_timeout": c.CommandTimeout, "verify_interval": c.VerifyInterval, "ping_interval": c.PingInterval,
		"token_refresh_before": c.TokenRefreshBefore, "poll_interval": c.PollInterval,
		"request_interval": c.RequestInterval, "settings_interval": c.SettingsInterval,
		"unauthorized_retry": c.UnauthorizedRetry,
	} {
		positive(name, d)
	}
	setIf := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setIf(&c.BackoffBase, time.Second)
	setIf(&c.BackoffMax, 5*time.Minute)
	setIf(&c.RequestTimeout, 15*time.Second)
	if c.BackoffMax < c.BackoffBase {
		bad("backoff_max (%s) is below backoff_base (%s)", c.BackoffMax, c.BackoffBase)
	}
	switch k {
	case kindIntegrator:
		c.validateIntegrator(account, bad)
	case kindCloud:
		c.validateCloud(bad)
	}
	return k, errors.Join(errs...)
}

func (c *config) validateIntegrator(account string, bad func(string, ...any)) {
	if c.Tag == "" {
		bad("tag is required with token")
	}
	if c.Token == "" {
		bad("token is required with tag")
	}
	for key, set := range map[string]bool{
		"devices": len(c.Devices) > 0, "poll_interval": c.PollInterval != 0, "request_interval": c.RequestInterval != 0,
		"settings_interval": c.SettingsInterval != 0, "unauthorized_retry": c.UnauthorizedRetry != 0,
	} {
		if set {
			bad("%s belongs to the Cloud Control API (server+auth_key), not the Integrator API", key)
		}
	}
	if c.APIURL == "" {
		c.APIURL = defaultAPIURL
	}
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("api_url %q is not an http(s) URL", c.APIURL)
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.ConsentPage == "" {
		c.ConsentPage = defaultConsentPage
	}
	if u, err := url.Parse(c.ConsentPage); err != nil || u.Host == "" {
		bad("consent_page %q is not a URL", c.ConsentPage)
	}
	if c.ConsentPath == "" {
		c.ConsentPath = "/shelly/" + pathWord(account) + "/consent"
	}
	if !strings.HasPrefix(c.ConsentPath, "/") || strings.ContainsAny(c.ConsentPath, "?# ") {
		bad("consent_path %q must be an absolute path", c.ConsentPath)
	}
	if c.ConsentPublicKey != "" {
		if _, err := parseP384(c.ConsentPublicKey); err != nil {
			bad("consent_public_key: %v", err)
		}
	}
	if c.WSScheme == "" {
		c.WSScheme = "wss"
	}
	if c.WSScheme != "wss" && c.WSScheme != "ws" {
		bad("ws_scheme must be wss or ws, not %q", c.WSScheme)
	}
	if c.WSPort == 0 {
		c.WSPort = 6113
	}
	if c.WSPort < 1 || c.WSPort > 65535 {
		bad("ws_port %d is not a port", c.WSPort)
	}
	if c.CommandTimeout == 0 {
		c.CommandTimeout = 10 * time.Second
	}
	if c.VerifyInterval == 0 {
		c.VerifyInterval = 200 * time.Millisecond
	}
	if c.PingInterval == 0 {
		c.PingInterval = 30 * time.Second
	}
	if c.TokenRefreshBefore == 0 {
		c.TokenRefreshBefore = time.Hour
	}
}

func (c *config) validateCloud(bad func(string, ...any)) {
	if c.Server == "" {
		bad("server is required with auth_key (the server shown next to the key in the Shelly app)")
	}
	if c.AuthKey == "" {
		bad("auth_key is required with server")
	}
	for key, set := range map[string]bool{
		"api_url": c.APIURL != "", "consent_path": c.ConsentPath != "", "consent_page": c.ConsentPage != "",
		"consent_public_key": c.ConsentPublicKey != "", "ws_scheme": c.WSScheme != "", "ws_port": c.WSPort != 0,
		"verify_interval": c.VerifyInterval != 0, "ping_interval": c.PingInterval != 0,
		"token_refresh_before": c.TokenRefreshBefore != 0, "command_timeout": c.CommandTimeout != 0,
	} {
		if set {
			bad("%s belongs to the Integrator API (tag+token), not the Cloud Control API", key)
		}
	}
	if c.Server != "" {
		base, err := serverURL(c.Server)
		if err != nil {
			bad("server: %v", err)
		}
		c.Server = base
	}
	if len(c.Devices) == 0 {
		bad("devices: list the device ids to poll (the Cloud Control API v2 cannot list an account's devices)")
	}
	seen := map[string]bool{}
	for i, raw := range c.Devices {
		id := normID(raw, nil)
		switch {
		case id == "":
			bad("devices[%d]: %q is not a Shelly device id", i, raw)
		case seen[id]:
			bad("devices[%d]: %q is listed twice", i, raw)
		}
		seen[id] = true
		c.Devices[i] = id
	}
	if c.RequestInterval == 0 {
		c.RequestInterval = 1100 * time.Millisecond
	}
	if c.RequestInterval < minRequestInterval {
		bad("request_interval %s is below the cloud's limit of one request per second", c.RequestInterval)
	}
	if c.PollInterval == 0 {
		c.PollInterval = 10 * time.Second
	}
	if c.SettingsInterval == 0 {
		c.SettingsInterval = time.Hour
	}
	if c.UnauthorizedRetry == 0 {
		c.UnauthorizedRetry = 2 * time.Second
	}
}

// serverURL turns the app's server name (or a full URL, for proxies and
// tests) into a base URL without a trailing slash.
func serverURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		h := normHost(s)
		if !validHost(h) {
			return "", fmt.Errorf("%q is not a host name", s)
		}
		return "https://" + h, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("%q is not an http(s) base URL", s)
	}
	return strings.TrimRight(u.Scheme+"://"+strings.ToLower(u.Host)+u.Path, "/"), nil
}

// pathWord makes an account name safe inside a URL path.
func pathWord(s string) string {
	out := []byte(s)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			out[i] = '_'
		}
	}
	if len(out) == 0 {
		return "default"
	}
	return string(out)
}

// parseP384 reads a PEM public key and insists on ECDSA P-384 (ES384).
func parseP384(pemText string) (*ecdsa.PublicKey, error) {
	blk, _ := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a public key: %w", err)
	}
	ec, ok := k.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P384() {
		return nil, errors.New("not an ECDSA P-384 key (SCL-Trust is ES384)")
	}
	return ec, nil
}
