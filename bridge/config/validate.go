package config

import (
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

var (
	mqttSchemes = map[string]bool{"tcp": true, "mqtt": true, "ssl": true, "tls": true, "mqtts": true, "ws": true, "wss": true}
	tlsSchemes  = map[string]bool{"ssl": true, "tls": true, "mqtts": true, "wss": true}
	logLevels   = []string{"debug", "info", "warn", "error"}
	logFormats  = []string{"auto", "console", "json"}
)

// UsesTLS reports whether the broker URL asks for TLS.
func (m MQTT) UsesTLS() bool {
	u, err := url.Parse(m.URL)
	return err == nil && tlsSchemes[strings.ToLower(u.Scheme)]
}

// validate checks values; messages name the key and never print a secret
// (nor a URL, which may hold one).
func (c *Config) validate(col *collector, ck *checker) {
	add := func(path, format string, args ...any) {
		col.add(ck.line(path), path+": "+format, args...)
	}
	c.validateMQTT(add)

	ha := c.HomeAssistant
	if msg := topicProblem(ha.DiscoveryPrefix); msg != "" {
		add("homeassistant.discovery_prefix", "%s", msg)
	}
	if strings.ContainsAny(ha.StatusTopic, "+#\x00") {
		add("homeassistant.status_topic", "must not contain + or #")
	}
	if ha.BirthDelay < 0 {
		add("homeassistant.birth_delay", "must not be negative")
	}

	if c.HTTP.Listen != "" {
		if msg := hostPortProblem(c.HTTP.Listen); msg != "" {
			add("http.listen", "%s (want host:port such as 127.0.0.1:8080, or off)", msg)
		}
	}
	if c.HTTP.PublicURL != "" {
		u, err := url.Parse(c.HTTP.PublicURL)
		switch {
		case err != nil || u.Host == "":
			add("http.public_url", "not a valid URL (want e.g. https://bridge.example.com)")
		case u.Scheme != "http" && u.Scheme != "https":
			add("http.public_url", "scheme must be http or https")
		case u.User != nil:
			add("http.public_url", "must not contain credentials")
		case u.RawQuery != "" || u.Fragment != "":
			add("http.public_url", "must not have a query or fragment")
		}
	}

	c.Log.Level = strings.ToLower(c.Log.Level)
	c.Log.Format = strings.ToLower(c.Log.Format)
	if !oneOf(c.Log.Level, logLevels) {
		add("log.level", "must be one of %s", strings.Join(logLevels, ", "))
	}
	if !oneOf(c.Log.Format, logFormats) {
		add("log.format", "must be one of %s", strings.Join(logFormats, ", "))
	}

	positive(add, "cloud.timeout", c.Cloud.Timeout)
	if c.Cloud.CAFile != "" {
		fileProblem(add, "cloud.ca_file", c.Cloud.CAFile)
	}
	if strings.TrimSpace(c.StateDir) == "" {
		add("state_dir", "must not be empty (default %s)", DefaultStateDir)
	}
	c.validateDevices(add)
}

func (c *Config) validateMQTT(add func(path, format string, args ...any)) {
	m := c.MQTT
	u, err := url.Parse(m.URL)
	switch {
	case m.URL == "":
		add("mqtt.url", "is required (e.g. %s)", DefaultMQTTURL)
	case err != nil || u.Host == "":
		add("mqtt.url", "not a valid broker URL (want e.g. %s)", DefaultMQTTURL)
	case !mqttSchemes[strings.ToLower(u.Scheme)]:
		add("mqtt.url", "scheme must be one of tcp, mqtt, ssl, tls, mqtts, ws, wss")
	case u.User != nil:
		add("mqtt.url", "must not contain credentials: use mqtt.username and mqtt.password (or password_file)")
	case u.Port() != "" && hostPortProblem(u.Host) != "":
		add("mqtt.url", "invalid port")
	}
	tls := err == nil && tlsSchemes[strings.ToLower(u.Scheme)]
	if !tls && (m.CAFile != "" || m.CertFile != "" || m.KeyFile != "" || m.InsecureSkipVerify) {
		add("mqtt.url", "TLS settings are given but the scheme is not ssl, tls, mqtts or wss")
	}
	if (m.CertFile == "") != (m.KeyFile == "") {
		add("mqtt.cert_file", "cert_file and key_file go together")
	}
	for path, f := range map[string]string{"mqtt.ca_file": m.CAFile, "mqtt.cert_file": m.CertFile, "mqtt.key_file": m.KeyFile} {
		if f != "" {
			fileProblem(add, path, f)
		}
	}
	if msg := topicProblem(m.BaseTopic); msg != "" {
		add("mqtt.base_topic", "%s", msg)
	}
	if strings.ContainsRune(m.ClientID, 0) || len(m.ClientID) > 65535 {
		add("mqtt.client_id", "invalid client id")
	}
	if m.Password != "" && m.Username == "" {
		add("mqtt.password", "needs mqtt.username")
	}
	if m.KeepAlive < Duration(time.Second) {
		add("mqtt.keep_alive", "must be at least 1s")
	}
	positive(add, "mqtt.connect_timeout", m.ConnectTimeout)
	positive(add, "mqtt.write_timeout", m.WriteTimeout)
}

func (c *Config) validateDevices(add func(path, format string, args ...any)) {
	for key := range c.Devices {
		path := "devices." + key
		vendor, id, ok := strings.Cut(key, "/")
		switch {
		case !ok || vendor == "" || id == "":
			add(path, "want a key of the form <vendor>/<id>, such as ewelink/1000abcdef")
		case vendorNotRegistered(vendor):
			add(path, "unknown vendor %q (known: %s)", clip(vendor), knownVendors())
		case discovery.SanitizeID(id) != id:
			add(path, "write the id as it appears in topics: %s/%s", vendor, discovery.SanitizeID(id))
		}
	}
}

func vendorNotRegistered(v string) bool {
	_, ok := vendors.Lookup(v)
	return !ok
}

// topicProblem checks a topic prefix we publish under.
func topicProblem(t string) string {
	switch {
	case t == "":
		return "must not be empty"
	case strings.ContainsAny(t, "+#"):
		return "must not contain the wildcards + or #"
	case strings.ContainsRune(t, 0):
		return "must not contain NUL"
	case strings.HasPrefix(t, "/") || strings.HasSuffix(t, "/"):
		return "must not start or end with /"
	case strings.Contains(t, "//"):
		return "must not contain an empty level (//)"
	}
	return ""
}

func hostPortProblem(hp string) string {
	_, port, err := net.SplitHostPort(hp)
	if err != nil {
		return "not host:port"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "invalid port"
	}
	return ""
}

func defaultPublicURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func positive(add func(path, format string, args ...any), path string, d Duration) {
	if d <= 0 {
		add(path, "must be a positive duration such as 10s")
	}
}

func fileProblem(add func(path, format string, args ...any), path, name string) {
	fi, err := os.Stat(name)
	switch {
	case err != nil:
		add(path, "%v", err)
	case fi.IsDir():
		add(path, "%s is a directory", name)
	}
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}
