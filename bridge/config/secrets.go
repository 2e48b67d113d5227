package config

import (
	"reflect"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

var secretType = reflect.TypeOf(vendors.Secret(""))

// Secrets returns every non-empty vendors.Secret held in v, through pointers,
// interfaces, structs (unexported fields too), slices, arrays and maps, each
// once, in the order found. The CLI hands them to the log redactor.
func Secrets(v any) []string {
	w := secretWalk{seen: map[string]bool{}, visited: map[visit]bool{}}
	w.walk(reflect.ValueOf(v), 0)
	return w.out
}

type visit struct {
	ptr uintptr
	typ reflect.Type
	n   int
}

type secretWalk struct {
	out     []string
	seen    map[string]bool
	visited map[visit]bool
}

// once guards against cycles through pointers, maps and slices.
func (w *secretWalk) once(v reflect.Value, n int) bool {
	k := visit{v.Pointer(), v.Type(), n}
	if w.visited[k] {
		return false
	}
	w.visited[k] = true
	return true
}

func (w *secretWalk) walk(v reflect.Value, depth int) {
	if !v.IsValid() || depth > 100 {
		return
	}
	if v.Type() == secretType {
		if s := v.String(); s != "" && !w.seen[s] {
			w.seen[s] = true
			w.out = append(w.out, s)
		}
		return
	}
	switch v.Kind() {
	case reflect.Ptr:
		if !v.IsNil() && w.once(v, 0) {
			w.walk(v.Elem(), depth+1)
		}
	case reflect.Interface:
		w.walk(v.Elem(), depth+1)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			w.walk(v.Field(i), depth+1)
		}
	case reflect.Slice:
		if v.IsNil() || !w.once(v, v.Len()) {
			return
		}
		fallthrough
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			w.walk(v.Index(i), depth+1)
		}
	case reflect.Map:
		if v.IsNil() || !w.once(v, 0) {
			return
		}
		it := v.MapRange()
		for it.Next() {
			w.walk(it.Key(), depth+1)
			w.walk(it.Value(), depth+1)
		}
	}
}
