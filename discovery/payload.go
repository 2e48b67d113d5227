package discovery

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Override is the user's per-device configuration.
type Override struct {
	Name string // replaces the cloud's name
	Area string // suggested_area
}

// Account identifies one configured vendor account, for the bridge device.
type Account struct {
	Vendor string
	Name   string
}

// OriginName is o.name in every payload; Owns keys on it.
const OriginName = "cloud2mqtt"

const originURL = "https://github.com/cloud2mqtt/cloud2mqtt"

// obj is one JSON object of a payload. encoding/json writes map keys sorted,
// so a payload is the same bytes for the same input: goldens and the bridge's
// publish-only-on-change comparison rely on that.
//
// Key names: the device and origin blocks and the structural keys use Home
// Assistant's abbreviations (dev, o, cmps, p, ids, mf, ...) as the contract
// writes them; entity options use full names. Abbreviating those too would
// save 11% (2.9 kB → 2.6 kB for a typical 8-entity plug, 29 → 26 MB for
// 10,000 of them; TestAbbreviationSaving), because topics and templates are
// most of the bytes: readable payloads win, and a mistyped abbreviation would
// be silently ignored by Home Assistant.
type obj = map[string]any

// DevicePayload renders the retained device-based discovery config of one
// device of vendor, for topic c.ConfigTopic(vendor, d.ID).
//
// Options shared by every component (availability, availability_mode and the
// device JSON state_topic) are written once at the root: Home Assistant merges
// them into each component that does not set its own (SHARED_OPTIONS in its
// mqtt/schemas.py), and drops a state_topic that a platform does not take.
func (c Config) DevicePayload(vendor string, d *vendors.Device, o Override) ([]byte, error) {
	if d == nil {
		return nil, errors.New("discovery: nil device")
	}
	if err := validVendor(vendor); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("discovery: device %s/%s: %w", vendor, d.ID, err)
	}
	if err := stateKeys(d); err != nil {
		return nil, fmt.Errorf("discovery: device %s/%s: %w", vendor, d.ID, err)
	}
	dev := c.deviceBlock(vendor, d, o)
	devName, _ := dev["name"].(string)
	// The root object is written by hand, its keys in sorted order as
	// appendJSON writes a map's, and each component is encoded as soon as it
	// is built, in one reused map: a payload used to allocate a map per
	// entity, which made an inventory of thousands of devices a burst of
	// garbage. About 800 bytes of device block and 350 per entity: one
	// allocation for the output.
	b := make([]byte, 0, 800+350*len(d.Entities))
	b = append(b, `{"availability":`...)
	b, err := appendJSON(b, []obj{{"topic": c.BridgeTopic("state")}, {"topic": c.AvailabilityTopic(vendor, d.ID)}})
	if err != nil {
		return nil, err
	}
	b = append(b, `,"availability_mode":"all","cmps":{`...)
	order := make([]*vendors.Entity, len(d.Entities))
	for i := range d.Entities {
		order[i] = &d.Entities[i]
	}
	slices.SortFunc(order, func(x, y *vendors.Entity) int { return strings.Compare(x.Key, y.Key) })
	m := make(obj, 24)
	for i, e := range order {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e.Key)
		b = append(b, ':')
		c.component(m, vendor, d.ID, devName, e)
		if b, err = appendJSON(b, m); err != nil {
			return nil, err
		}
		clear(m)
	}
	b = append(b, `},"dev":`...)
	if b, err = appendJSON(b, dev); err != nil {
		return nil, err
	}
	b = append(b, `,"o":`...)
	if b, err = appendJSON(b, c.origin()); err != nil {
		return nil, err
	}
	b = append(b, `,"state_topic":`...)
	b = appendJSONString(b, c.DeviceTopic(vendor, d.ID))
	return append(b, '}'), nil
}

// stateKeys checks the extra state keys of covers and fans, which go into
// templates and topics like entity keys do.
func stateKeys(d *vendors.Device) error {
	var errs []error
	check := func(e *vendors.Entity, what, k string) {
		if k != "" && !vendors.ValidKey(k) {
			errs = append(errs, fmt.Errorf("entity %q: %s %q must match [a-z0-9_]+ and not be a reserved word", e.Key, what, k))
		}
	}
	for i := range d.Entities {
		e := &d.Entities[i]
		if e.Cover != nil {
			check(e, "position key", e.Cover.PositionKey)
			check(e, "tilt key", e.Cover.TiltKey)
		}
		if e.Fan != nil {
			check(e, "percentage key", e.Fan.PercentageKey)
			check(e, "preset key", e.Fan.PresetKey)
		}
	}
	return errors.Join(errs...)
}

func validVendor(v string) error {
	if v == "" {
		return errors.New("discovery: empty vendor")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("discovery: vendor %q must match [a-z0-9_]+", v)
		}
	}
	return nil
}

func (c Config) origin() obj {
	o := obj{"name": OriginName, "url": originURL}
	if c.Version != "" {
		o["sw"] = c.Version
	}
	return o
}

func (c Config) deviceBlock(vendor string, d *vendors.Device, o Override) obj {
	name := strings.TrimSpace(o.Name)
	if name == "" {
		name = strings.TrimSpace(d.Name)
	}
	if name == "" {
		name = d.ID
	}
	dev := obj{
		"ids":        []string{c.ObjectID(vendor, d.ID)},
		"name":       name,
		"via_device": c.BridgeID(),
	}
	if d.Via != "" {
		dev["via_device"] = c.ObjectID(vendor, d.Via)
	}
	set := func(k, v string) {
		if v != "" {
			dev[k] = v
		}
	}
	set("mf", d.Manufacturer)
	set("mdl", d.Model)
	set("mdl_id", d.ModelID)
	set("sw", d.SWVersion)
	set("hw", d.HWVersion)
	set("sn", d.Serial)
	set("sa", strings.TrimSpace(o.Area))
	if d.MAC != "" {
		dev["cns"] = [][]string{{"mac", d.MAC}}
	}
	return dev
}

// entityName is the entity's name, or nil (JSON null) for the device's main
// entity. Home Assistant shows "<device> <entity>", so a name that repeats the
// device name is trimmed (it warns about, then ignored, such names).
func entityName(devName, name string) any {
	name = strings.TrimSpace(name)
	if name == "" || strings.EqualFold(name, devName) {
		return nil
	}
	if len(name) > len(devName)+1 && strings.EqualFold(name[:len(devName)], devName) && name[len(devName)] == ' ' {
		if rest := strings.TrimSpace(name[len(devName)+1:]); rest != "" {
			if c := rest[0]; c >= 'a' && c <= 'z' {
				rest = string(c-'a'+'A') + rest[1:]
			}
			return rest
		}
	}
	return name
}
