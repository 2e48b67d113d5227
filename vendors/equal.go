package vendors

import (
	"reflect"
	"slices"
)

// Equal reports whether two entities describe the same thing. It is the
// reflect.DeepEqual of the two, written out because adapters compare
// entities on every report; TestEntityEqualCoversEveryField fails when a
// field is added to Entity or its specs without being compared here.
func (e *Entity) Equal(o *Entity) bool {
	if e == o {
		return true
	}
	if e == nil || o == nil {
		return false
	}
	return e.Key == o.Key && e.Platform == o.Platform && e.Name == o.Name &&
		e.DeviceClass == o.DeviceClass && e.Unit == o.Unit && e.StateClass == o.StateClass &&
		e.Category == o.Category && e.Icon == o.Icon && e.Writable == o.Writable &&
		e.DisabledByDefault == o.DisabledByDefault && equalPtr(e.Precision, o.Precision) &&
		equalStrings(e.Options, o.Options) &&
		e.Min == o.Min && e.Max == o.Max && e.Step == o.Step && e.HasRange == o.HasRange &&
		e.ContentType == o.ContentType &&
		e.Light.equal(o.Light) && equalPtr(e.Cover, o.Cover) && e.Fan.equal(o.Fan)
}

func (l *LightSpec) equal(o *LightSpec) bool {
	if l == nil || o == nil {
		return l == o
	}
	return equalStrings(l.ColorModes, o.ColorModes) && l.MinKelvin == o.MinKelvin &&
		l.MaxKelvin == o.MaxKelvin && equalStrings(l.Effects, o.Effects)
}

func (f *FanSpec) equal(o *FanSpec) bool {
	if f == nil || o == nil {
		return f == o
	}
	return f.PercentageKey == o.PercentageKey && f.SpeedCount == o.SpeedCount &&
		f.PresetKey == o.PresetKey && equalStrings(f.PresetModes, o.PresetModes)
}

// equalStrings tells nil from empty, as reflect.DeepEqual does.
func equalStrings(a, b []string) bool {
	return (a == nil) == (b == nil) && slices.Equal(a, b)
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// EqualValue reports whether two state values are the same, quickly for the
// scalars that make up almost every report.
func EqualValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return reflect.DeepEqual(a, b)
}
