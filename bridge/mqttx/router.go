package mqttx

import (
	"strings"
	"sync"
)

// router holds the client's subscriptions; every received message goes
// through it, including those a persistent session delivers right after
// CONNACK, before the subscriptions are made again.
type router struct {
	mu     sync.RWMutex
	routes []route
}

type route struct {
	filter string
	qos    byte
	h      Handler
}

func (r *router) add(filter string, qos byte, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.routes {
		if r.routes[i].filter == filter {
			r.routes[i] = route{filter, qos, h}
			return
		}
	}
	r.routes = append(r.routes, route{filter, qos, h})
}

func (r *router) remove(filter string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.routes {
		if r.routes[i].filter == filter {
			r.routes = append(r.routes[:i], r.routes[i+1:]...)
			return
		}
	}
}

// filters returns the subscriptions to make on connect.
func (r *router) filters() map[string]byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := make(map[string]byte, len(r.routes))
	for _, rt := range r.routes {
		m[rt.filter] = rt.qos
	}
	return m
}

// dispatch calls every handler whose filter matches; it reports whether any did.
func (r *router) dispatch(m Message) bool {
	r.mu.RLock()
	var hs [4]Handler
	matched := hs[:0]
	for _, rt := range r.routes {
		if Match(rt.filter, m.Topic) {
			matched = append(matched, rt.h)
		}
	}
	r.mu.RUnlock()
	for _, h := range matched {
		h(m)
	}
	return len(matched) > 0
}

// Match reports whether topic matches the MQTT filter (+ and # wildcards).
func Match(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && !strings.HasPrefix(filter, "$") {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" {
			return true
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		if fl != "+" && fl != tl {
			return false
		}
		if !fmore || !tmore {
			// "a/#" also matches "a".
			return fmore == tmore || (!tmore && frest == "#")
		}
		filter, topic = frest, trest
	}
}
