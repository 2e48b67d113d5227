package vendors

import (
	"reflect"
	"testing"
)

// fullEntity sets every field of an entity and its specs.
func fullEntity() Entity {
	return Entity{
		Key: "k", Platform: Light, Name: "n", DeviceClass: "dc", Unit: "u", StateClass: "sc",
		Category: "c", Icon: "i", Writable: true, DisabledByDefault: true, Precision: IntPtr(1),
		Options: []string{"a"}, Min: 1, Max: 2, Step: 3, HasRange: true, ContentType: "ct",
		Light: &LightSpec{ColorModes: []string{"hs"}, MinKelvin: 1, MaxKelvin: 2, Effects: []string{"e"}},
		Cover: &CoverSpec{PositionKey: "p", TiltKey: "t", CanStop: true},
		Fan:   &FanSpec{PercentageKey: "p", SpeedCount: 1, PresetKey: "k", PresetModes: []string{"m"}},
	}
}

// TestEntityEqualCoversEveryField changes each field of an entity, and of
// each spec it points to, one at a time, and requires Equal to agree with
// reflect.DeepEqual: a field added to the model without a comparison fails.
func TestEntityEqualCoversEveryField(t *testing.T) {
	var check func(path string, mutate func(e *Entity) reflect.Value)
	check = func(path string, at func(e *Entity) reflect.Value) {
		base := fullEntity()
		v := at(&base)
		for i := 0; i < v.NumField(); i++ {
			name := path + v.Type().Field(i).Name
			f := v.Field(i)
			if f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Struct {
				check(name+".", func(e *Entity) reflect.Value { return at(e).Field(i).Elem() })
			}
			for _, change := range []func(f reflect.Value){zeroValue, otherValue} {
				a, b := fullEntity(), fullEntity()
				change(at(&b).Field(i))
				want := reflect.DeepEqual(a, b)
				if got := a.Equal(&b); got != want {
					t.Errorf("%s changed: Equal = %v, DeepEqual = %v", name, got, want)
				}
				if got := b.Equal(&a); got != want {
					t.Errorf("%s changed (swapped): Equal = %v, DeepEqual = %v", name, got, want)
				}
			}
		}
	}
	check("", func(e *Entity) reflect.Value { return reflect.ValueOf(e).Elem() })
	a, b := fullEntity(), fullEntity()
	if !a.Equal(&b) {
		t.Error("equal entities compare unequal")
	}
	a.Options, b.Options = nil, []string{}
	if a.Equal(&b) != reflect.DeepEqual(a, b) {
		t.Error("nil and empty options: Equal disagrees with DeepEqual")
	}
}

func zeroValue(f reflect.Value) { f.Set(reflect.Zero(f.Type())) }

// otherValue gives a field a different non-zero value of its kind.
func otherValue(f reflect.Value) {
	switch f.Kind() {
	case reflect.String:
		f.SetString(f.String() + "x")
	case reflect.Bool:
		f.SetBool(!f.Bool())
	case reflect.Int:
		f.SetInt(f.Int() + 7)
	case reflect.Float64:
		f.SetFloat(f.Float() + 0.5)
	case reflect.Slice:
		f.Set(reflect.Append(f, reflect.ValueOf("extra")))
	case reflect.Pointer:
		if f.Type().Elem().Kind() == reflect.Int {
			f.Set(reflect.ValueOf(IntPtr(42)))
		} else {
			f.Set(reflect.New(f.Type().Elem()))
		}
	default:
		panic("otherValue: add a case for " + f.Kind().String())
	}
}

func TestEqualValue(t *testing.T) {
	up := &UpdateState{InstalledVersion: "1"}
	for _, c := range []struct {
		a, b any
		want bool
	}{
		{1.5, 1.5, true}, {1.5, 2.5, false}, {1.5, "1.5", false},
		{"on", "on", true}, {"on", "off", false}, {true, true, true}, {true, false, false},
		{nil, nil, true}, {nil, 0.0, false}, {0.0, nil, false},
		{*up, UpdateState{InstalledVersion: "1"}, true}, {*up, UpdateState{}, false},
	} {
		if got := EqualValue(c.a, c.b); got != c.want {
			t.Errorf("EqualValue(%#v, %#v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
