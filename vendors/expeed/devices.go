package expeed

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// devEntry is one known device: from the config or learnt from its pushes.
type devEntry struct {
	ID      string
	Key     string // device_key: a secret
	Name    string
	Model   string
	Serial  string
	Learned bool
	specs   map[string]*dpSpec // by datapoint name
	byKey   map[string]*dpSpec // by entity key

	// live state
	online     bool
	onlineKnow bool
	stamps     map[string]time.Time // newest sample applied per datapoint
	values     map[string]any       // last value per entity key
	lastHeard  time.Time            // last push or read
}

func newEntry(id, key string) *devEntry {
	return &devEntry{ID: id, Key: key, specs: map[string]*dpSpec{}, byKey: map[string]*dpSpec{},
		stamps: map[string]time.Time{}, values: map[string]any{}}
}

func entryFromConfig(c deviceConfig) (*devEntry, error) {
	d := newEntry(c.DeviceID, c.DeviceKey.Reveal())
	d.Name, d.Model, d.Serial = c.Name, c.Model, c.Serial
	names := make([]string, 0, len(c.Datapoints))
	for n := range c.Datapoints {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		sp, err := newSpec(n, c.Datapoints[n])
		if err != nil {
			errs = append(errs, fmt.Errorf("datapoint %q: %v", n, err))
			continue
		}
		if other, dup := d.byKey[sp.Entity.Key]; dup {
			errs = append(errs, fmt.Errorf("datapoints %q and %q both have key %q", other.Name, n, sp.Entity.Key))
			continue
		}
		d.add(sp)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	dev := d.device("expeed")
	if err := dev.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *devEntry) add(sp *dpSpec) {
	d.specs[sp.Name] = sp
	d.byKey[sp.Entity.Key] = sp
}

// learn adds read-only entities for datapoints not seen before; it reports
// whether anything was added.
func (d *devEntry) learn(values map[string]json.RawMessage) bool {
	added := false
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := d.specs[n]; ok || len(d.specs) >= 200 {
			continue
		}
		key := keyFromName(n)
		for i := 2; d.byKey[key] != nil; i++ {
			key = fmt.Sprintf("%s_%d", keyFromName(n), i)
		}
		d.add(learnedSpec(n, key, values[n]))
		added = true
	}
	return added
}

// device is the normalized device for the bridge.
func (d *devEntry) device(manufacturer string) vendors.Device {
	dev := vendors.Device{ID: d.ID, Name: d.Name, Manufacturer: manufacturer, Model: d.Model, Serial: d.Serial}
	if dev.Name == "" {
		dev.Name = d.ID
	}
	keys := make([]string, 0, len(d.byKey))
	for k := range d.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		dev.Entities = append(dev.Entities, d.byKey[k].Entity)
	}
	dev.Entities = vendors.InternEntities(dev.Entities)
	return dev
}

// learnedDevice is what the store keeps of a device learnt from pushes.
type learnedDevice struct {
	ID         string            `json:"id"`
	Key        string            `json:"device_key"`
	Serial     string            `json:"serial,omitempty"`
	Datapoints map[string]string `json:"datapoints"` // name → sample raw value
}

func (d *devEntry) toLearned() learnedDevice {
	l := learnedDevice{ID: d.ID, Key: d.Key, Serial: d.Serial, Datapoints: map[string]string{}}
	for n, sp := range d.specs {
		sample := "0"
		if sp.Entity.Platform == vendors.Sensor && sp.Entity.StateClass == "" {
			sample = `""`
		}
		l.Datapoints[n] = sample
	}
	return l
}

func entryFromLearned(l learnedDevice) *devEntry {
	d := newEntry(l.ID, l.Key)
	d.Learned, d.Serial = true, l.Serial
	vals := map[string]json.RawMessage{}
	for n, s := range l.Datapoints {
		vals[n] = json.RawMessage(s)
	}
	d.learn(vals)
	return d
}
