package expeedsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Device is one simulated device.
type Device struct {
	ID    string
	Key   string // device_key (product level)
	SN    string
	Name  string
	Model string
	// Offline starts the device off line.
	Offline bool
	Points  []Point
}

// Point is one datapoint with its raw value as the cloud reports it.
type Point struct {
	Name     string
	Value    float64
	Writable bool
	Min, Max float64
	// Decimals of the raw value; 0 sends integers.
	Decimals int
	// Drift is the largest random step per drift tick (0: constant).
	Drift float64

	// Hints for the account config the simulator writes (not wire protocol).
	Platform    string
	DeviceClass string
	Unit        string
	StateClass  string
	Scale       float64
	Step        float64
}

// Fixtures returns n thermostats, n plugs and n air sensors. Devices of one
// kind share a product-level device_key.
func Fixtures(n int) []Device {
	if n < 1 {
		n = 1
	}
	thermoKey, plugKey, airKey := "kt-"+randHex(8), "kp-"+randHex(8), "ka-"+randHex(8)
	var out []Device
	for i := 1; i <= n; i++ {
		out = append(out,
			Device{ID: fmt.Sprintf("TH%04d", i), Key: thermoKey, SN: fmt.Sprintf("SNTH%06d", i), Name: fmt.Sprintf("Thermostat %d", i), Model: "Smart thermostat",
				Points: []Point{
					{Name: "temp", Value: 215, Min: -400, Max: 1000, Drift: 3, Platform: "sensor", DeviceClass: "temperature", Unit: "°C", StateClass: "measurement", Scale: 0.1},
					{Name: "switch", Value: 1, Min: 0, Max: 1, Writable: true, Platform: "switch"},
					{Name: "settemp", Value: 220, Min: 50, Max: 350, Writable: true, Platform: "number", DeviceClass: "temperature", Unit: "°C", Scale: 0.1, Step: 0.5},
				}},
			Device{ID: fmt.Sprintf("PL%04d", i), Key: plugKey, SN: fmt.Sprintf("SNPL%06d", i), Name: fmt.Sprintf("Plug %d", i), Model: "Smart plug",
				Points: []Point{
					{Name: "switch", Value: 1, Min: 0, Max: 1, Writable: true, Platform: "switch"},
					{Name: "power", Value: 42.5, Min: 0, Max: 3500, Decimals: 1, Drift: 4, Platform: "sensor", DeviceClass: "power", Unit: "W", StateClass: "measurement", Scale: 1},
					{Name: "energy", Value: 123456, Min: 0, Max: 1e12, Platform: "sensor", DeviceClass: "energy", Unit: "kWh", StateClass: "total_increasing", Scale: 0.001},
				}},
			Device{ID: fmt.Sprintf("AQ%04d", i), Key: airKey, SN: fmt.Sprintf("SNAQ%06d", i), Name: fmt.Sprintf("Air sensor %d", i), Model: "Air quality sensor",
				Points: []Point{
					{Name: "temp", Value: 231, Min: -400, Max: 1000, Drift: 2, Platform: "sensor", DeviceClass: "temperature", Unit: "°C", StateClass: "measurement", Scale: 0.1},
					{Name: "hum", Value: 45, Min: 0, Max: 100, Drift: 1, Platform: "sensor", DeviceClass: "humidity", Unit: "%", StateClass: "measurement", Scale: 1},
					{Name: "pm25", Value: 12, Min: 0, Max: 999, Drift: 2, Platform: "sensor", DeviceClass: "pm25", Unit: "µg/m³", StateClass: "measurement", Scale: 1},
				}},
		)
	}
	return out
}

// device is a Device's live state.
type device struct {
	Device
	values  map[string]float64
	online  bool
	updated time.Time
	history []sample // oldest first, strictly increasing times
	rng     *rand.Rand
}

type sample struct {
	at     time.Time
	values map[string]float64
}

func newDevice(d Device, now time.Time, seed int, rngSeed int64) *device {
	dv := &device{Device: d, values: map[string]float64{}, online: !d.Offline, updated: now,
		rng: rand.New(rand.NewPCG(uint64(rngSeed), 42))}
	for _, p := range d.Points {
		dv.values[p.Name] = p.Value
	}
	start := now.Add(-time.Duration(seed) * time.Minute).Truncate(time.Millisecond)
	for i := 0; i < seed; i++ {
		vals := map[string]float64{}
		for _, p := range d.Points {
			if dv.rng.IntN(2) == 0 && len(vals) > 0 {
				continue
			}
			v := p.Value
			if p.Drift > 0 {
				v = p.clamp(v + (dv.rng.Float64()*2-1)*p.Drift*3)
			}
			vals[p.Name] = v
		}
		dv.addSample(start.Add(time.Duration(i)*time.Minute), vals)
	}
	return dv
}

func (d *device) point(name string) (Point, bool) {
	for _, p := range d.Points {
		if p.Name == name {
			return p, true
		}
	}
	return Point{}, false
}

// addSample inserts into the history by time; times stay unique (ms).
func (d *device) addSample(at time.Time, vals map[string]float64) time.Time {
	at = at.Truncate(time.Millisecond)
	i := sort.Search(len(d.history), func(i int) bool { return !d.history[i].at.Before(at) })
	for i < len(d.history) && d.history[i].at.Equal(at) {
		at = at.Add(time.Millisecond)
		i++
	}
	d.history = append(d.history, sample{})
	copy(d.history[i+1:], d.history[i:])
	d.history[i] = sample{at: at, values: vals}
	if len(d.history) > 20000 {
		d.history = d.history[len(d.history)-20000:]
	}
	return at
}

// set records values as the device reports them at a time and returns the
// sample's time; values older than the current state only go to the history.
func (d *device) set(at time.Time, vals map[string]float64) time.Time {
	at = d.addSample(at, vals)
	if !at.Before(d.updated) {
		for k, v := range vals {
			d.values[k] = v
		}
		d.updated = at
	}
	return at
}

// drift moves the drifting datapoints one random step and returns what changed.
func (d *device) drift() map[string]float64 {
	changed := map[string]float64{}
	for _, p := range d.Points {
		if p.Drift == 0 {
			continue
		}
		if p.Name == "power" && d.values["switch"] == 0 {
			if d.values["power"] != 0 {
				changed["power"] = 0
			}
			continue
		}
		v := p.round(p.clamp(d.values[p.Name] + (d.rng.Float64()*2-1)*p.Drift))
		if p.Name == "power" && v < 1 {
			v = 1
		}
		if v != d.values[p.Name] {
			changed[p.Name] = v
		}
	}
	if _, ok := d.point("energy"); ok {
		if w := d.values["power"]; w > 0 {
			changed["energy"] = d.values["energy"] + math.Max(1, math.Round(w/100))
		}
	}
	return changed
}

func (p Point) clamp(v float64) float64 { return math.Max(p.Min, math.Min(p.Max, v)) }

func (p Point) round(v float64) float64 {
	f := math.Pow(10, float64(p.Decimals))
	return math.Round(v*f) / f
}

// rawJSON writes a value the way the device sends it.
func (p Point) rawJSON(v float64) any {
	if p.Decimals == 0 {
		return int64(math.Round(v))
	}
	return p.round(v)
}

func sortedNames(m map[string]float64) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
