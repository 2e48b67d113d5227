// Package metrics is cloud2mqtt's Prometheus instrumentation: its own
// registry (no global state), every name prefixed cloud2mqtt_. It implements
// bridge.Metrics for the core and vendors.Metrics per account for adapters.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

const ns = "cloud2mqtt"

// Options configure the metrics.
type Options struct {
	Version, Commit string
	// DeviceValues exports every numeric device value as
	// cloud2mqtt_device_value{vendor,device,key} (see SetDeviceValues).
	DeviceValues bool
}

// Metrics holds every collector on its own registry.
type Metrics struct {
	reg *prometheus.Registry
	// compress: gzip the exposition, worth it only with the per-device
	// values (megabytes for thousands of devices). Otherwise it is a few
	// kilobytes, and a pooled gzip writer would keep about 1 MB of tables.
	compress bool

	mqttConnected  prometheus.Gauge
	published      *prometheus.CounterVec
	publishFailed  *prometheus.CounterVec
	received       *prometheus.CounterVec
	dropped        *prometheus.CounterVec
	commands       *prometheus.CounterVec
	queue          *prometheus.GaugeVec
	apiRequests    *prometheus.CounterVec
	apiFailures    *prometheus.CounterVec
	apiLatency     *prometheus.HistogramVec
	rateWaits      *prometheus.CounterVec
	rateWaitSecs   *prometheus.CounterVec
	tokenExpiry    *prometheus.GaugeVec
	streamUp       *prometheus.GaugeVec
	devices        *prometheus.GaugeVec
	devicesOnline  *prometheus.GaugeVec
	accountUp      *prometheus.GaugeVec
	accountStatus  *prometheus.GaugeVec
	budget         *prometheus.GaugeVec
	deviceValueFns deviceValues
}

// New builds the metrics and registers them (with the Go and process
// collectors) on a new registry.
func New(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	va := []string{"vendor", "account"}
	vao := []string{"vendor", "account", "op"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, labels)
		m.reg.MustRegister(g)
		return g
	}
	m.mqttConnected = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "mqtt_connected", Help: "1 while the MQTT connection is up."})
	m.reg.MustRegister(m.mqttConnected)
	m.published = counter("mqtt_messages_published_total", "MQTT messages published, by kind.", "kind")
	m.publishFailed = counter("mqtt_publish_failures_total", "MQTT publishes that failed, by kind.", "kind")
	m.received = counter("mqtt_messages_received_total", "MQTT messages received, by kind.", "kind")
	m.dropped = counter("mqtt_publish_dropped_total", "Messages dropped before publishing (queue full, image too large), by kind.", "kind")
	m.commands = counter("commands_total", "Commands answered, by vendor and result code (ok or an error code).", "vendor", "result")
	m.queue = gauge("command_queue_length", "Commands waiting for an account's workers.", va...)
	m.apiRequests = counter("vendor_api_requests_total", "Requests to vendor clouds.", vao...)
	m.apiFailures = counter("vendor_api_failures_total", "Failed requests to vendor clouds.", vao...)
	m.apiLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "vendor_api_request_duration_seconds", Help: "Latency of requests to vendor clouds.",
		Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, vao)
	m.reg.MustRegister(m.apiLatency)
	m.rateWaits = counter("rate_limit_waits_total", "Times a request waited for the account's rate limit.", va...)
	m.rateWaitSecs = counter("rate_limit_wait_seconds_total", "Time spent waiting for the account's rate limit.", va...)
	m.tokenExpiry = gauge("token_expiry_timestamp_seconds", "When the account's access token expires (Unix time).", va...)
	m.streamUp = gauge("websocket_connected", "1 while the account's push stream is connected.", va...)
	m.devices = gauge("devices", "Devices the account reports.", va...)
	m.devicesOnline = gauge("devices_online", "Devices of the account that are online.", va...)
	m.accountUp = gauge("account_up", "1 while the account is connected.", va...)
	m.accountStatus = gauge("account_status", "1 for the account's current status.", "vendor", "account", "status")
	m.budget = gauge("quota_remaining", "Remaining API quota where the cloud has one.", "vendor", "account", "name")

	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: ns, Name: "build_info", Help: "Version and commit of the running cloud2mqtt.",
		ConstLabels: prometheus.Labels{"version": o.Version, "commit": o.Commit},
	})
	info.Set(1)
	m.reg.MustRegister(info)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.DeviceValues {
		m.reg.MustRegister(&m.deviceValueFns)
		m.compress = true
	}
	return m
}

// Registry is the registry every collector is on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError, DisableCompression: !m.compress})
}

// SetDeviceValues gives the source of the per-device gauges (the bridge's
// DeviceValues); they are read at scrape time when Options.DeviceValues is on.
func (m *Metrics) SetDeviceValues(f func(emit func(vendor, device, key string, value float64))) {
	m.deviceValueFns.set(f)
}

// MQTTConnected implements bridge.Metrics.
func (m *Metrics) MQTTConnected(up bool) { m.mqttConnected.Set(b2f(up)) }

// MQTTPublished implements bridge.Metrics.
func (m *Metrics) MQTTPublished(kind string) { m.published.WithLabelValues(kind).Inc() }

// MQTTPublishFailed implements bridge.Metrics.
func (m *Metrics) MQTTPublishFailed(kind string) { m.publishFailed.WithLabelValues(kind).Inc() }

// MQTTReceived implements bridge.Metrics.
func (m *Metrics) MQTTReceived(kind string) { m.received.WithLabelValues(kind).Inc() }

// PublishDropped implements bridge.Metrics.
func (m *Metrics) PublishDropped(kind string) { m.dropped.WithLabelValues(kind).Inc() }

// CommandResult implements bridge.Metrics.
func (m *Metrics) CommandResult(vendor, code string) {
	m.commands.WithLabelValues(vendor, word(code)).Inc()
}

// CommandQueue implements bridge.Metrics.
func (m *Metrics) CommandQueue(vendor, account string, n int) {
	m.queue.WithLabelValues(vendor, account).Set(float64(n))
}

var states = []vendors.AccountState{vendors.StateConnecting, vendors.StateConnected, vendors.StateBackoff, vendors.StateError, vendors.StateDisabled}

// AccountStatus implements bridge.Metrics.
func (m *Metrics) AccountStatus(vendor, account, state string) {
	for _, s := range states {
		m.accountStatus.WithLabelValues(vendor, account, string(s)).Set(b2f(string(s) == state))
	}
	m.accountUp.WithLabelValues(vendor, account).Set(b2f(state == string(vendors.StateConnected)))
}

// AccountDevices implements bridge.Metrics.
func (m *Metrics) AccountDevices(vendor, account string, devices, online int) {
	m.devices.WithLabelValues(vendor, account).Set(float64(devices))
	m.devicesOnline.WithLabelValues(vendor, account).Set(float64(online))
}

// Account returns the vendors.Metrics of one account, for its adapter's Env.
func (m *Metrics) Account(vendor, account string) vendors.Metrics {
	return &accountMetrics{m: m, vendor: vendor, account: account}
}

type accountMetrics struct {
	m               *Metrics
	vendor, account string
}

func (a *accountMetrics) APIRequest(op string, took time.Duration, err error) {
	op = word(op)
	a.m.apiRequests.WithLabelValues(a.vendor, a.account, op).Inc()
	a.m.apiLatency.WithLabelValues(a.vendor, a.account, op).Observe(took.Seconds())
	if err != nil {
		a.m.apiFailures.WithLabelValues(a.vendor, a.account, op).Inc()
	}
}

func (a *accountMetrics) RateLimitWait(took time.Duration) {
	a.m.rateWaits.WithLabelValues(a.vendor, a.account).Inc()
	a.m.rateWaitSecs.WithLabelValues(a.vendor, a.account).Add(took.Seconds())
}

func (a *accountMetrics) TokenExpiry(at time.Time) {
	a.m.tokenExpiry.WithLabelValues(a.vendor, a.account).Set(float64(at.Unix()))
}

func (a *accountMetrics) StreamConnected(up bool) {
	a.m.streamUp.WithLabelValues(a.vendor, a.account).Set(b2f(up))
}

func (a *accountMetrics) Budget(name string, remaining float64) {
	a.m.budget.WithLabelValues(a.vendor, a.account, word(name)).Set(remaining)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// word keeps label values that come from adapters (operation names, quota
// names, result codes) to short plain words, so that nothing else (a URL, a
// token) can become a label.
func word(s string) string {
	if s == "" || len(s) > 48 {
		return "other"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "other"
		}
	}
	return s
}

// deviceValues is the scrape-time collector of per-device gauges.
type deviceValues struct {
	mu sync.Mutex
	f  func(emit func(vendor, device, key string, value float64))
}

var deviceValueDesc = prometheus.NewDesc(ns+"_device_value", "Numeric device values from the bridge's state cache.", []string{"vendor", "device", "key"}, nil)

func (d *deviceValues) set(f func(emit func(vendor, device, key string, value float64))) {
	d.mu.Lock()
	d.f = f
	d.mu.Unlock()
}

func (d *deviceValues) Describe(ch chan<- *prometheus.Desc) { ch <- deviceValueDesc }

func (d *deviceValues) Collect(ch chan<- prometheus.Metric) {
	d.mu.Lock()
	f := d.f
	d.mu.Unlock()
	if f == nil {
		return
	}
	var ms []prometheus.Metric
	f(func(vendor, device, key string, v float64) {
		ms = append(ms, prometheus.MustNewConstMetric(deviceValueDesc, prometheus.GaugeValue, v, vendor, device, key))
	})
	for _, m := range ms {
		ch <- m
	}
}
