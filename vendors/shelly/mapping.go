package shelly

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// meta is what the cloud says about a device besides its status.
type meta struct {
	Code string `json:"code,omitempty"`
	Type string `json:"type,omitempty"`
	Gen  string `json:"gen,omitempty"`
	// Name is the device name from its settings.
	Name string `json:"name,omitempty"`
	// Names are the consent callback's names, one per channel.
	Names []string `json:"names,omitempty"`
	// ChanNames are channel names from settings, by component ("switch:0", "relays:0").
	ChanNames map[string]string `json:"chan_names,omitempty"`
	ReadOnly  bool              `json:"read_only,omitempty"`
	// Mode is the Gen2 profile or Gen1 mode from settings (cover, color…).
	Mode string `json:"mode,omitempty"`
	FW   string `json:"fw,omitempty"`
}

// target tells a command which Shelly channel an entity drives and how.
type target struct {
	Kind string // "switch", "cover", "light"
	Ch   int
	Comp string // Gen2 component or Gen1 array name
	Gen1 bool
	// Light is the light's colour mode; Gain says brightness travels as gain
	// (Gen1 colour mode).
	Light   string
	Gain    bool
	Effects []string
}

// targets are the command targets of a device's entities, by entity key; a
// device has a few, for which a slice is a fraction of a map's size.
type targets []keyedTarget

type keyedTarget struct {
	key string
	t   target
}

func (ts targets) get(key string) (target, bool) {
	for i := range ts {
		if ts[i].key == key {
			return ts[i].t, true
		}
	}
	return target{}, false
}

func (ts *targets) set(key string, t target) {
	for i := range *ts {
		if (*ts)[i].key == key {
			(*ts)[i].t = t
			return
		}
	}
	*ts = append(*ts, keyedTarget{key, t})
}

func (t target) equal(o target) bool {
	return t.Kind == o.Kind && t.Ch == o.Ch && t.Comp == o.Comp && t.Gen1 == o.Gen1 &&
		t.Light == o.Light && t.Gain == o.Gain && slices.Equal(t.Effects, o.Effects)
}

// view is a device's status rendered for Home Assistant.
type view struct {
	Entities []vendors.Entity
	Values   map[string]any
	Targets  targets
	// Unknown lists status keys no mapping knows; their raw values are in
	// Values under a sanitized key but no entity is discovered for them.
	Unknown []string
	MAC     string
	FW      string
	// Owners[i] is the Gen2 status key Entities[i] was built from ("" for
	// Gen1, whose entities may draw on several keys).
	Owners []string
	// Collided: an entity key was taken already, and was prefixed or dropped.
	Collided bool
	// Multi and Temps are the Gen2 counts the build used (see gen2Counts).
	Multi bool
	Temps int
}

// isGen2Status decides the parser by payload shape: "<component>:<n>" keys
// mean a Gen2+ RPC status, Gen1 arrays/objects mean Gen1. ok is false when
// the shape says neither (e.g. a delta of only "sys").
func isGen2Status(st map[string]any) (gen2, ok bool) {
	for k := range st {
		if _, _, isComp := splitComp(k); isComp {
			return true, true
		}
	}
	for k := range st {
		if gen1Keys[k] {
			return false, true
		}
	}
	return false, false
}

func splitComp(k string) (string, int, bool) {
	i := strings.IndexByte(k, ':')
	if i <= 0 || i == len(k)-1 {
		return "", 0, false
	}
	n, err := strconv.Atoi(k[i+1:])
	if err != nil || n < 0 || n > 65535 {
		return "", 0, false
	}
	return k[:i], n, true
}

var gen1Keys = map[string]bool{
	"relays": true, "meters": true, "rollers": true, "lights": true, "emeters": true, "inputs": true,
	"tmp": true, "hum": true, "bat": true, "sensor": true, "lux": true, "accel": true, "flood": true,
	"smoke": true, "gas_sensor": true, "concentration": true, "ext_temperature": true,
	"ext_humidity": true, "adcs": true, "wifi_sta": true, "overtemperature": true, "total_power": true,
}

// cloudKeys are bookkeeping keys the cloud adds to a status.
var cloudKeys = map[string]bool{
	"serial": true, "_updated": true, "updated": true, "id": true, "code": true, "ts": true,
	"_dev_info": true, "getinfo": true, "gen": true,
}

// quietKeys are known housekeeping parts of a status that carry nothing for
// Home Assistant beyond what is mapped from them.
var quietKeys = map[string]bool{
	// Gen2
	"cloud": true, "mqtt": true, "ws": true, "ble": true, "eth": true, "ui": true, "plugs_ui": true,
	"bthome": true, "matter": true, "zigbee": true, "knx": true,
	// Gen1
	"time": true, "unixtime": true, "has_update": true, "mac": true, "cfg_changed_cnt": true,
	"actions_stats": true, "update": true, "ram_total": true, "ram_free": true, "ram_lwm": true,
	"fs_size": true, "fs_free": true, "uptime": true, "fs_mounted": true,
}

// builder accumulates a view; add resolves key collisions deterministically.
type builder struct {
	st    map[string]any
	m     *meta
	v     *view
	used  map[string]bool
	multi bool
	temps int    // Gen2 temperature components
	cur   string // the Gen2 status key being mapped

	// readings, when set, makes the builder compute values only, for a
	// component known to have the view's entities (see mapReadings).
	readings *readingsPass

	// the last channel named: a channel's ten or so entities ask in a row
	named     bool
	namedComp string
	namedCh   int
	name      string
}

func buildView(m *meta, st map[string]any, gen2 bool) view {
	b := &builder{st: st, m: m, v: &view{Values: map[string]any{}, FW: m.FW}, used: map[string]bool{}}
	if gen2 {
		b.gen2(st)
	} else {
		b.gen1(st)
	}
	return *b.v
}

// add appends an entity; val is published only when has is true. A key
// already taken is prefixed with prefix.
func (b *builder) add(prefix string, e vendors.Entity, val any, has bool) string {
	if b.readings != nil {
		return b.readings.add(b.v.Values, val, has)
	}
	if b.used[e.Key] {
		b.v.Collided = true
		if prefix != "" {
			e.Key = prefix + "_" + e.Key
		}
	}
	if b.used[e.Key] || !vendors.ValidKey(e.Key) {
		return ""
	}
	b.take(e.Key)
	b.v.Entities = append(b.v.Entities, e)
	b.v.Owners = append(b.v.Owners, b.cur)
	if has {
		b.v.Values[e.Key] = val
	}
	return e.Key
}

// take marks key as used. A builder without a used set (the delta path of
// a device whose keys never collide) does not track them.
func (b *builder) take(key string) {
	if b.used != nil {
		b.used[key] = true
	}
}

func (b *builder) unknown(k string, v any) {
	b.v.Unknown = append(b.v.Unknown, k)
	key := sanitizeKey(k)
	if key == "" || b.used[key] {
		b.v.Collided = true
		key = sanitizeKey("unknown_" + k)
	}
	if key != "" && !b.used[key] {
		b.take(key)
		b.v.Values[key] = cloneValue(v, 0)
	}
}

func sanitizeKey(s string) string {
	out := []byte(strings.ToLower(s))
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			out[i] = '_'
		}
	}
	k := strings.Trim(string(out), "_")
	if !vendors.ValidKey(k) {
		return ""
	}
	return k
}

// chName names a channel's main entity: empty on a single-channel device
// (Home Assistant shows the device name), else the user's channel name or
// "Channel N" (1-based for people; keys keep Shelly's 0-based id).
func (b *builder) chName(comp string, ch int) string {
	if !b.multi || b.readings != nil {
		return ""
	}
	if b.named && b.namedComp == comp && b.namedCh == ch {
		return b.name
	}
	name := b.m.ChanNames[comp+":"+strconv.Itoa(ch)]
	if name == "" && ch < len(b.m.Names) {
		name = b.m.Names[ch]
	}
	if name == "" {
		name = "Channel " + strconv.Itoa(ch+1)
	}
	b.named, b.namedComp, b.namedCh, b.name = true, comp, ch, name
	return name
}

// subName names a channel's secondary entity ("Power", "Channel 2 power").
func (b *builder) subName(comp string, ch int, what string) string {
	if !b.multi || b.readings != nil {
		return what
	}
	ch0 := b.chName(comp, ch)
	var buf [64]byte
	out := append(append(buf[:0], ch0...), ' ')
	for i := 0; i < len(what); i++ {
		c := what[i]
		if c >= 0x80 {
			return ch0 + " " + strings.ToLower(what)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return entityStrings.Intern(out)
}

// entityStrings shares the entity keys and names the mapping composes anew
// for every status it reads: the delta path builds a touched component's
// entities for each frame, and each would otherwise be an allocation.
var entityStrings vendorkit.Interner

// suffix is key_n, the key of channel n's entity. While the builder maps
// values only, entity keys are not needed.
func (b *builder) suffix(key string, n int) string {
	if b.readings != nil {
		return ""
	}
	var buf [48]byte
	return entityStrings.Intern(strconv.AppendInt(append(append(buf[:0], key...), '_'), int64(n), 10))
}

func pct255(p float64) int {
	n := int(math.Round(p * 255 / 100))
	return max(0, min(255, n))
}

func onOff(b bool) string {
	if b {
		return vendors.On
	}
	return vendors.Off
}

// sensor builds a measurement sensor entity.
func sensor(key, name, class, unit string) vendors.Entity {
	return vendors.Entity{Key: key, Platform: vendors.Sensor, Name: name, DeviceClass: class, Unit: unit, StateClass: "measurement"}
}

func energy(key, name string) vendors.Entity {
	return vendors.Entity{Key: key, Platform: vendors.Sensor, Name: name, DeviceClass: "energy", Unit: "kWh", StateClass: "total_increasing"}
}

func diag(e vendors.Entity, disabled bool) vendors.Entity {
	e.Category = vendors.CategoryDiagnostic
	e.DisabledByDefault = disabled
	return e
}

func binary(key, name, class string) vendors.Entity {
	return vendors.Entity{Key: key, Platform: vendors.BinarySensor, Name: name, DeviceClass: class}
}

// switchEntity is a relay: a switch, or a power binary sensor on a
// read-only grant.
func (b *builder) switchEntity(key, name string) vendors.Entity {
	if b.m.ReadOnly {
		return binary(key, name, "power")
	}
	class := "switch"
	if isPlug(b.m.Code, b.m.Type) {
		class = "outlet"
	}
	return vendors.Entity{Key: key, Platform: vendors.Switch, Name: name, DeviceClass: class, Writable: true}
}

var coverStates = []string{vendors.CoverOpen, vendors.CoverOpening, vendors.CoverClosed, vendors.CoverClosing, vendors.CoverStopped}

// coverEntities adds a cover (or, read-only, an enum sensor plus a position
// sensor).
func (b *builder) coverEntities(comp string, ch int, state string, hasState bool, pos int, hasPos, posKnown, tilt bool, tiltVal int, hasTilt bool, gen1 bool) {
	key := b.suffix("cover", ch)
	posKey := b.suffix("position", ch)
	if b.m.ReadOnly {
		e := vendors.Entity{Key: key, Platform: vendors.Sensor, Name: b.chName(comp, ch), DeviceClass: "enum", Options: coverStates}
		b.add("", e, state, hasState)
		if posKnown {
			b.add("", vendors.Entity{Key: posKey, Platform: vendors.Sensor, Name: b.subName(comp, ch, "Position"), Unit: "%", StateClass: "measurement"}, pos, hasPos)
		}
		return
	}
	spec := &vendors.CoverSpec{CanStop: true}
	if posKnown {
		spec.PositionKey = posKey
	}
	if tilt {
		spec.TiltKey = b.suffix("tilt", ch)
	}
	e := vendors.Entity{Key: key, Platform: vendors.Cover, Name: b.chName(comp, ch), DeviceClass: "shutter", Writable: true, Cover: spec}
	if k := b.add("", e, state, hasState); k != "" {
		b.v.Targets.set(k, target{Kind: "cover", Ch: ch, Comp: comp, Gen1: gen1})
		if posKnown && hasPos {
			b.v.Values[posKey] = pos
		}
		if tilt && hasTilt {
			b.v.Values[spec.TiltKey] = tiltVal
		}
	}
}

// lightEntity adds a JSON-schema light (or an on/off binary sensor when
// read-only).
func (b *builder) lightEntity(comp string, ch int, t target, ls vendors.LightState, has bool) {
	key := b.suffix("light", ch)
	name := b.chName(comp, ch)
	if b.m.ReadOnly {
		b.add(comp, binary(key, name, "light"), ls.State, has)
		return
	}
	spec := &vendors.LightSpec{ColorModes: []string{t.Light}, Effects: t.Effects}
	if t.Light == "color_temp" {
		spec.MinKelvin, spec.MaxKelvin = 2700, 6500
	}
	e := vendors.Entity{Key: key, Platform: vendors.Light, Name: name, Writable: true, Light: spec}
	if k := b.add(comp, e, ls, has); k != "" {
		t.Kind = "light"
		t.Ch = ch
		t.Comp = comp
		b.v.Targets.set(k, t)
	}
}

// sortedKeys orders status keys by rank, then name, then channel, so the
// entity list (and key collision resolution) is stable.
func sortedKeys(st map[string]any, rank func(string) int) []string {
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ci, ni, _ := splitComp(keys[i])
		cj, nj, _ := splitComp(keys[j])
		if ci == "" {
			ci = keys[i]
		}
		if cj == "" {
			cj = keys[j]
		}
		ri, rj := rank(ci), rank(cj)
		if ri != rj {
			return ri < rj
		}
		if ci != cj {
			return ci < cj
		}
		if ni != nj {
			return ni < nj
		}
		return keys[i] < keys[j]
	})
	return keys
}
