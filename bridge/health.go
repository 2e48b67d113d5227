package bridge

import (
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Health is what /healthz and the health request report.
type Health struct {
	Status        string          `json:"status"` // "ok" or "error"
	MQTTConnected bool            `json:"mqtt_connected"`
	Problems      []string        `json:"problems,omitempty"`
	Accounts      []AccountHealth `json:"accounts"`
}

// AccountHealth is one account in Health.
type AccountHealth struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	LastError      string `json:"last_error,omitempty"`
	PermanentError bool   `json:"permanent_error"`
}

// OK reports whether the bridge is healthy: MQTT connected and no account
// stopped by a permanent error.
func (h Health) OK() bool { return h.Status == "ok" }

// Health reports the bridge's health now.
func (b *Bridge) Health() Health {
	h := Health{Status: "ok", MQTTConnected: b.started.Load() && b.client.IsConnected(), Accounts: []AccountHealth{}}
	if !h.MQTTConnected {
		h.Problems = append(h.Problems, "mqtt not connected")
	}
	b.mu.Lock()
	for _, a := range b.accounts {
		h.Accounts = append(h.Accounts, AccountHealth{ID: a.id, Status: string(a.st.State), LastError: a.st.LastError, PermanentError: a.permanent})
		if a.permanent {
			h.Problems = append(h.Problems, "account "+a.id+" stopped: "+a.st.LastError)
		}
	}
	b.mu.Unlock()
	if len(h.Problems) > 0 {
		h.Status = "error"
	}
	return h
}

// Routes collects the HTTP routes of every adapter that has some.
func (b *Bridge) Routes() []vendors.Route {
	var routes []vendors.Route
	for _, a := range b.accounts {
		if r, ok := a.adapter.(vendors.Router); ok {
			routes = append(routes, r.Routes()...)
		}
	}
	return routes
}
