package ewelink

import (
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// coverKind is one cover protocol (reference §10.4). Positions are Home
// Assistant's: 0 closed, 100 open.
type coverKind interface {
	// present reports whether the params describe this cover.
	present(p params) bool
	// position reads the current position; ok=false when the cover has none.
	position(p params) (int, bool)
	// moving reads a movement the device reports (opening/closing/"").
	moving(upd params) (state string, final bool)
	action(a string) params
	setPosition(pos int) params
	hasPosition() bool
}

// cover is the "cover" entity with its position under "position".
type cover struct {
	kind  coverKind
	class string
}

const coverPositionKey = "position"

func (f cover) entities(t *thing) []vendors.Entity {
	if !f.kind.present(t.params()) {
		return nil
	}
	spec := &vendors.CoverSpec{CanStop: true}
	if f.kind.hasPosition() {
		spec.PositionKey = coverPositionKey
	}
	return []vendors.Entity{{Key: "cover", Platform: vendors.Cover, DeviceClass: f.class, Writable: true, Cover: spec}}
}

func (f cover) values(t *thing, out map[string]any) {
	if !f.kind.present(t.params()) {
		return
	}
	pos, ok := f.kind.position(t.params())
	if ok && f.kind.hasPosition() {
		out[coverPositionKey] = pos
	}
	switch {
	case t.motion != "":
		out["cover"] = t.motion
	case !ok:
	case pos <= 0:
		out["cover"] = vendors.CoverClosed
	case pos >= 100 || !f.kind.hasPosition():
		out["cover"] = vendors.CoverOpen
	default:
		out["cover"] = vendors.CoverOpen
	}
}

func (f cover) observe(t *thing, upd params, live bool) []firedEvent {
	state, final := f.kind.moving(upd)
	switch {
	case final:
		t.motion = ""
	case state != "":
		t.motion = state
	}
	return nil
}

func (f cover) command(t *thing, key string, v any) (plan, error) {
	c, ok := v.(vendors.CoverCommand)
	if !ok {
		return plan{}, badValue(key, v)
	}
	cur, known := f.kind.position(t.params())
	switch {
	case c.Position != nil:
		if !f.kind.hasPosition() {
			return plan{}, vendors.Errorf(vendors.CodeNotSupported, "this cover has no position")
		}
		pos := clamp(*c.Position, 0, 100)
		motion := vendors.CoverOpening
		if known && pos < cur {
			motion = vendors.CoverClosing
		}
		if known && pos == cur {
			motion = ""
		}
		return plan{msgs: []params{f.kind.setPosition(pos)}, keep: true, after: func(t *thing) { t.motion = motion }}, nil
	case c.Tilt != nil:
		return plan{}, vendors.Errorf(vendors.CodeNotSupported, "this cover has no tilt")
	}
	var motion string
	switch c.Action {
	case vendors.CoverActionOpen:
		motion = vendors.CoverOpening
	case vendors.CoverActionClose:
		motion = vendors.CoverClosing
	case vendors.CoverActionStop:
		motion = ""
	default:
		return plan{}, vendors.Errorf(vendors.CodeInvalidValue, "cover action %q", c.Action)
	}
	return plan{msgs: []params{f.kind.action(c.Action)}, keep: true, after: func(t *thing) { t.motion = motion }}, nil
}

// setclose: KingArt (11), MINI-RBS (258), MINI-ZBRBS (7034). switch on/off/
// pause drives it, setclose 0–100 is the position with 0 = open.
type setclose struct{}

func (setclose) present(p params) bool {
	_, ok := p["setclose"]
	_, ok2 := p["switch"]
	return ok || ok2
}
func (setclose) hasPosition() bool { return true }

func (setclose) position(p params) (int, bool) {
	v, ok := pint(p, "setclose")
	if !ok {
		return 0, false
	}
	return 100 - clamp(v, 0, 100), true
}

func (setclose) moving(upd params) (string, bool) {
	if _, ok := upd["setclose"]; ok {
		return "", true
	}
	s, _ := text(upd["switch"])
	switch s {
	case "on":
		return vendors.CoverOpening, false
	case "off":
		return vendors.CoverClosing, false
	case "pause":
		return "", true
	}
	return "", false
}

func (setclose) action(a string) params {
	return params{"switch": map[string]string{vendors.CoverActionOpen: "on", vendors.CoverActionClose: "off", vendors.CoverActionStop: "pause"}[a]}
}

func (setclose) setPosition(pos int) params { return params{"setclose": 100 - pos} }

// curtain: Zigbee curtain motors (1514, 7006): curtainAction, openPercent
// (set) and curPercent (state), both with 0 = open.
type curtain struct{}

func (curtain) present(p params) bool {
	_, ok := p["curPercent"]
	_, ok2 := p["curtainAction"]
	return ok || ok2
}
func (curtain) hasPosition() bool { return true }

func (curtain) position(p params) (int, bool) {
	v, ok := pint(p, "curPercent")
	if !ok {
		return 0, false
	}
	return 100 - clamp(v, 0, 100), true
}

func (curtain) moving(upd params) (string, bool) {
	if _, ok := upd["curPercent"]; ok {
		return "", true
	}
	s, _ := text(upd["curtainAction"])
	switch s {
	case "open":
		return vendors.CoverOpening, false
	case "close":
		return vendors.CoverClosing, false
	case "pause":
		return "", true
	}
	return "", false
}

func (curtain) action(a string) params {
	return params{"curtainAction": map[string]string{vendors.CoverActionOpen: "open", vendors.CoverActionClose: "close", vendors.CoverActionStop: "pause"}[a]}
}

func (curtain) setPosition(pos int) params { return params{"openPercent": 100 - pos} }

// garage: KING-Q1 (67) and ST-03 (91): op 1 open, 2 stop, 3 close; per 0
// closed / 100 open; no settable position.
type garage struct{}

func (garage) present(p params) bool {
	_, ok := p["per"]
	_, ok2 := p["op"]
	return ok || ok2
}
func (garage) hasPosition() bool { return false }

func (garage) position(p params) (int, bool) {
	v, ok := pint(p, "per")
	if !ok {
		return 0, false
	}
	return clamp(v, 0, 100), true
}

func (garage) moving(upd params) (string, bool) {
	if _, ok := upd["per"]; ok {
		return "", true
	}
	switch op, _ := pint(upd, "op"); op {
	case 1:
		return vendors.CoverOpening, false
	case 3:
		return vendors.CoverClosing, false
	case 2:
		return "", true
	}
	return "", false
}

func (garage) action(a string) params {
	return params{"op": map[string]int{vendors.CoverActionOpen: 1, vendors.CoverActionStop: 2, vendors.CoverActionClose: 3}[a]}
}

func (garage) setPosition(int) params { return nil }

// dualMotor: DUALR3 in motor mode (126, workMode 2): motorTurn 1 open / 2
// close / 0 stop, location (set), currLocation 0 closed…100 open.
type dualMotor struct{}

func (dualMotor) present(p params) bool {
	_, ok := p["currLocation"]
	_, ok2 := p["motorTurn"]
	return ok || ok2
}
func (dualMotor) hasPosition() bool { return true }

func (dualMotor) position(p params) (int, bool) {
	v, ok := pint(p, "currLocation")
	if !ok {
		return 0, false
	}
	return clamp(v, 0, 100), true
}

func (dualMotor) moving(upd params) (string, bool) {
	if _, ok := upd["currLocation"]; ok {
		if m, ok := pint(upd, "motorTurn"); !ok || m == 0 {
			return "", true
		}
	}
	switch m, ok := pint(upd, "motorTurn"); {
	case !ok:
		return "", false
	case m == 1:
		return vendors.CoverOpening, false
	case m == 2:
		return vendors.CoverClosing, false
	default:
		return "", true
	}
}

func (dualMotor) action(a string) params {
	return params{"motorTurn": map[string]int{vendors.CoverActionOpen: 1, vendors.CoverActionClose: 2, vendors.CoverActionStop: 0}[a]}
}

func (dualMotor) setPosition(pos int) params { return params{"location": pos} }
