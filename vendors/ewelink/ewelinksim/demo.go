package ewelinksim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// StartDemo runs the simulator with its fixtures (scaled to about devices)
// and values that drift every few seconds, and returns the YAML of one
// account entry pointing at it. The demo account logs in with a password
// (a paid APPID's path) so it runs unattended; bridgeURL is not needed, as
// this cloud never calls the bridge.
func StartDemo(devices int, bridgeURL string) (config string, stop func(), err error) {
	s := New(Options{Devices: Scaled(devices), CoverTravel: 3 * time.Second})
	s.startDrift(3 * time.Second)
	config = s.Config("demo", "region: us", "energy_interval: 2m")
	return config, s.Close, nil
}

// startDrift changes values on their own every period, as real devices do:
// power and energy of meters, temperatures, motion, door contacts, buttons.
func (s *Server) startDrift(period time.Duration) {
	s.mu.Lock()
	s.stopDrift = make(chan struct{})
	stop := s.stopDrift
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			s.driftOnce(n)
		}
	}()
}

func (s *Server) driftOnce(n int) {
	s.mu.Lock()
	type change struct {
		id string
		p  map[string]any
	}
	var changes []change
	var energy []string
	for _, id := range s.order {
		d := s.devices[id]
		if !d.online {
			continue
		}
		p := map[string]any{}
		switch d.UIID {
		case 5, 32, 182:
			w := wander(d.params["power"], 5, 0, 3000)
			p["power"] = strconv.FormatFloat(w, 'f', 2, 64)
			if d.UIID != 5 {
				p["voltage"] = strconv.FormatFloat(228+rand.Float64()*4, 'f', 2, 64)
				p["current"] = strconv.FormatFloat(w/230, 'f', 2, 64)
			}
			energy = append(energy, id)
		case 190:
			p["power"] = int(wander(d.params["power"], 500, 0, 300000))
			energy = append(energy, id)
		case 126:
			if wm, _ := number(d.params["workMode"]); wm != 2 {
				p["actPow_00"] = int(wander(d.params["actPow_00"], 200, 0, 200000))
			}
			energy = append(energy, id)
		case 15, 181:
			p["currentTemperature"] = strconv.FormatFloat(wander(d.params["currentTemperature"], 0.2, 15, 30), 'f', 1, 64)
			if d.UIID == 181 {
				p["currentHumidity"] = strconv.FormatFloat(math.Round(wander(d.params["currentHumidity"], 1, 30, 70)), 'f', 0, 64)
			}
		case 1770:
			p["temperature"] = strconv.Itoa(int(wander(d.params["temperature"], 15, 1800, 2800)))
			p["humidity"] = strconv.Itoa(int(wander(d.params["humidity"], 40, 3000, 7000)))
		case 2026:
			if n%4 == 0 {
				m, _ := number(d.params["motion"])
				p["motion"] = 1 - int(m)
			}
		case 7016:
			if n%5 == 0 {
				h, _ := number(d.params["human"])
				p["human"] = 1 - int(h)
			}
		case 102:
			if n%6 == 0 {
				p["switch"] = map[bool]string{true: "off", false: "on"}[d.params["switch"] == "on"]
			}
		case 1000, 7000:
			if n%7 == 0 {
				p["key"] = n % 3
				p["trigTime"] = strconv.FormatInt(time.Now().UnixMilli(), 10)
			}
		}
		if len(p) > 0 {
			changes = append(changes, change{id, p})
		}
	}
	for _, c := range changes {
		d := s.devices[c.id]
		mergeParams(d.params, c.p)
		s.pushLocked(d, c.p, nil)
	}
	for _, id := range energy {
		for ch := range s.devices[id].energy {
			s.devices[id].energy[ch][0] += 0.01 + rand.Float64()*0.02
		}
	}
	s.mu.Unlock()
}

// Config is the account entry (YAML mapping) of a password login against
// this simulator; extra lines are appended (they may override keys the
// simulator does not set: a region to start from, intervals).
func (s *Server) Config(name string, extra ...string) string {
	o := s.opt
	cfg := fmt.Sprintf("name: %s\napp_id: %q\napp_secret: %q\nlogin: password\n", name, o.AppID, o.AppSecret)
	if o.Phone != "" {
		cfg += fmt.Sprintf("phone: %q\n", o.Phone)
	} else {
		cfg += fmt.Sprintf("email: %q\n", o.Email)
	}
	cfg += fmt.Sprintf("password: %q\ncountry_code: %q\napi_url: %q\ndispatch_url: %q\noauth_url: %q\n",
		o.Password, o.CountryCode, s.APIURL(), s.DispatchURL(), s.OAuthURL())
	hasRegion := false
	for _, e := range extra {
		hasRegion = hasRegion || strings.HasPrefix(e, "region:")
		cfg += e + "\n"
	}
	if !hasRegion {
		cfg += "region: " + o.Region + "\n"
	}
	return cfg
}

// wander moves a numeric param by up to ±step within [lo, hi].
func wander(v any, step, lo, hi float64) float64 {
	f, ok := number(v)
	if !ok {
		f = (lo + hi) / 2
	}
	f += (rand.Float64()*2 - 1) * step
	return math.Max(lo, math.Min(hi, f))
}
