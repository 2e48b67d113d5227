package shelly

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// The v2 set bodies, field for field as the Cloud Control API documents
// them. Every field is validated locally before a request goes out.

type switchCmd struct {
	On          *bool    `json:"on"`
	ToggleAfter *float64 `json:"toggle_after,omitempty"`
}

type coverCmd struct {
	Position     any      `json:"position,omitempty"` // "open" | "close" | "stop" | 0–100
	Duration     *float64 `json:"duration,omitempty"`
	Relative     *float64 `json:"relative,omitempty"`
	SlatPosition *float64 `json:"slatPosition,omitempty"`
	SlatRelative *float64 `json:"slatRelative,omitempty"`
}

type lightCmd struct {
	On          *bool    `json:"on,omitempty"`
	ToggleAfter *float64 `json:"toggle_after,omitempty"`
	Mode        *string  `json:"mode,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	Brightness  *float64 `json:"brightness,omitempty"`
	Red         *float64 `json:"red,omitempty"`
	Green       *float64 `json:"green,omitempty"`
	Blue        *float64 `json:"blue,omitempty"`
	White       *float64 `json:"white,omitempty"`
	Gain        *float64 `json:"gain,omitempty"`
	Effect      *float64 `json:"effect,omitempty"`
}

// addr is a single-device body's id and channel.
type addr struct {
	ID      string   `json:"id"`
	Channel *float64 `json:"channel,omitempty"`
}

type singleSwitch struct {
	addr
	switchCmd
}
type singleCover struct {
	addr
	coverCmd
}
type singleLight struct {
	addr
	lightCmd
}

type groupReq struct {
	Switch *struct {
		IDs     []string  `json:"ids"`
		Command switchCmd `json:"command"`
	} `json:"switch,omitempty"`
	Cover *struct {
		IDs     []string `json:"ids"`
		Command coverCmd `json:"command"`
	} `json:"cover,omitempty"`
	Light *struct {
		IDs     []string `json:"ids"`
		Command lightCmd `json:"command"`
	} `json:"light,omitempty"`
}

func invalid(format string, a ...any) error {
	return &vendors.Error{Code: vendors.CodeInvalidValue, Message: fmt.Sprintf(format, a...)}
}

func outOfRange(format string, a ...any) error {
	return &vendors.Error{Code: vendors.CodeOutOfRange, Message: fmt.Sprintf(format, a...)}
}

func rangeCheck(name string, v *float64, lo, hi float64, integer bool) error {
	if v == nil {
		return nil
	}
	if math.IsNaN(*v) || math.IsInf(*v, 0) {
		return invalid("%s is not a number", name)
	}
	if integer && *v != math.Trunc(*v) {
		return invalid("%s must be a whole number", name)
	}
	if *v < lo || *v > hi {
		return outOfRange("%s %g is outside %g–%g", name, *v, lo, hi)
	}
	return nil
}

func (a addr) validate() (string, int, error) {
	id := normID(a.ID, nil)
	if id == "" {
		return "", 0, invalid("id %q is not a Shelly device id", a.ID)
	}
	if err := rangeCheck("channel", a.Channel, 0, 255, true); err != nil {
		return "", 0, err
	}
	ch := 0
	if a.Channel != nil {
		ch = int(*a.Channel)
	}
	return id, ch, nil
}

func (c switchCmd) validate() error {
	if c.On == nil {
		return invalid("set/switch needs on")
	}
	return positive("toggle_after", c.ToggleAfter)
}

func positive(name string, v *float64) error {
	if v == nil {
		return nil
	}
	if math.IsNaN(*v) || math.IsInf(*v, 0) || *v <= 0 {
		return outOfRange("%s must be a positive number of seconds", name)
	}
	return nil
}

func (c coverCmd) validate() error {
	posWord := ""
	switch p := c.Position.(type) {
	case nil:
	case string:
		if p != "open" && p != "close" && p != "stop" {
			return invalid("position %q is not open, close, stop or 0–100", p)
		}
		posWord = p
	case float64:
		if err := rangeCheck("position", &p, 0, 100, false); err != nil {
			return err
		}
	default:
		return invalid("position must be open, close, stop or a number")
	}
	switch {
	case c.Position != nil && c.Relative != nil:
		return invalid("position and relative cannot be used together")
	case c.SlatPosition != nil && c.SlatRelative != nil:
		return invalid("slatPosition and slatRelative cannot be used together")
	case c.Duration != nil && posWord == "":
		return invalid("duration only goes with position open, close or stop")
	case c.Position == nil && c.Relative == nil && c.SlatPosition == nil && c.SlatRelative == nil:
		return invalid("set/cover needs position, relative, slatPosition or slatRelative")
	}
	for _, err := range []error{
		positive("duration", c.Duration),
		rangeCheck("relative", c.Relative, -100, 100, false),
		rangeCheck("slatPosition", c.SlatPosition, 0, 100, false),
		rangeCheck("slatRelative", c.SlatRelative, -100, 100, false),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// validate checks a light command; minTemp is 2700 K for one device and
// 2500 K for groups, as the API documents.
func (c lightCmd) validate(minTemp float64) error {
	colour := c.Red != nil || c.Green != nil || c.Blue != nil || c.White != nil || c.Gain != nil || c.Effect != nil
	white := c.Temperature != nil
	other := colour || white || c.Brightness != nil || c.Mode != nil || c.ToggleAfter != nil
	if c.On == nil && !other {
		return invalid("set/light needs on (or another field)")
	}
	if c.Mode != nil && *c.Mode != "color" && *c.Mode != "white" {
		return invalid("mode %q is not color or white", *c.Mode)
	}
	switch {
	case colour && white:
		return invalid("temperature (white mode) cannot be used with red/green/blue/white/gain/effect (colour mode)")
	case c.Mode != nil && *c.Mode == "white" && colour:
		return invalid("mode white cannot take colour fields")
	case c.Mode != nil && *c.Mode == "color" && (white || c.Brightness != nil):
		return invalid("mode color cannot take temperature or brightness (use gain)")
	}
	for _, err := range []error{
		positive("toggle_after", c.ToggleAfter),
		rangeCheck("temperature", c.Temperature, minTemp, 7000, false),
		rangeCheck("brightness", c.Brightness, 0, 100, false),
		rangeCheck("red", c.Red, 0, 255, true),
		rangeCheck("green", c.Green, 0, 255, true),
		rangeCheck("blue", c.Blue, 0, 255, true),
		rangeCheck("white", c.White, 0, 255, true),
		rangeCheck("gain", c.Gain, 0, 100, false),
		rangeCheck("effect", c.Effect, 0, 6, true),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// groupID parses "<id>_<channel>" (channel defaults to 0).
func groupID(s string) (string, int, error) {
	idPart, chPart, hasCh := strings.Cut(s, "_")
	id := normID(idPart, nil)
	if id == "" {
		return "", 0, invalid("group id %q is not <device id>_<channel>", s)
	}
	ch := 0
	if hasCh {
		n, err := strconv.Atoi(chPart)
		if err != nil || n < 0 || n > 255 {
			return "", 0, invalid("group id %q has a bad channel", s)
		}
		ch = n
	}
	return id, ch, nil
}

func (g groupReq) validate() error {
	n := 0
	check := func(kind string, ids []string, err error) error {
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return invalid("group %s needs ids", kind)
		}
		if len(ids) > 100 {
			return invalid("group %s has more than 100 ids", kind)
		}
		for _, s := range ids {
			if _, _, err := groupID(s); err != nil {
				return err
			}
		}
		n++
		return nil
	}
	if g.Switch != nil {
		if err := check("switch", g.Switch.IDs, g.Switch.Command.validate()); err != nil {
			return err
		}
	}
	if g.Cover != nil {
		if err := check("cover", g.Cover.IDs, g.Cover.Command.validate()); err != nil {
			return err
		}
	}
	if g.Light != nil {
		if err := check("light", g.Light.IDs, g.Light.Command.validate(2500)); err != nil {
			return err
		}
	}
	if n == 0 {
		return invalid("set/groups needs switch, cover or light")
	}
	return nil
}

// decodeStrict decodes a request body, refusing unknown fields.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("bad request body: %v", err)
	}
	if dec.More() {
		return invalid("bad request body: trailing data")
	}
	return nil
}

func fptr(n int) *float64 { f := float64(n); return &f }

// cloudCommand renders an action as a v2 set command.
func cloudCommand(a action) (kind string, cmd any, err error) {
	switch a.Kind {
	case "switch":
		c := switchCmd{On: a.On}
		return "switch", c, c.validate()
	case "cover":
		var c coverCmd
		switch {
		case a.Go != "":
			c.Position = a.Go
		case a.Pos != nil:
			c.Position = float64(*a.Pos)
		}
		if a.Slat != nil {
			c.SlatPosition = fptr(*a.Slat)
		}
		return "cover", c, c.validate()
	case "light":
		c := lightCmd{On: a.On}
		opt := func(v *int) *float64 {
			if v == nil {
				return nil
			}
			return fptr(*v)
		}
		c.Brightness, c.Gain = opt(a.Brightness), opt(a.Gain)
		c.Red, c.Green, c.Blue, c.White = opt(a.Red), opt(a.Green), opt(a.Blue), opt(a.White)
		c.Temperature, c.Effect = opt(a.Temp), opt(a.Effect)
		if a.Mode != "" {
			m := a.Mode
			c.Mode = &m
		}
		return "light", c, c.validate(2700)
	}
	return "", nil, vendors.ErrReadOnly
}
