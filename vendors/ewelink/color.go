package ewelink

import (
	"math"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// toDevice maps Home Assistant brightness 1–255 linearly onto lo–hi.
func toDevice(b, lo, hi int) int {
	b = clamp(b, 1, 255)
	return lo + int(math.Round(float64(b-1)*float64(hi-lo)/254))
}

// fromDevice maps a device brightness lo–hi onto 1–255.
func fromDevice(v, lo, hi int) int {
	if hi <= lo {
		return 255
	}
	v = clamp(v, lo, hi)
	return 1 + int(math.Round(float64(v-lo)*254/float64(hi-lo)))
}

// kelvinToDevice maps kelvin onto 0–dmax where 0 is the warm end (kmin).
func kelvinToDevice(k, kmin, kmax, dmax int) int {
	k = clamp(k, kmin, kmax)
	return int(math.Round(float64(k-kmin) * float64(dmax) / float64(kmax-kmin)))
}

// kelvinFromDevice maps 0–dmax (0 warm) onto kmin–kmax.
func kelvinFromDevice(d, kmin, kmax, dmax int) int {
	d = clamp(d, 0, dmax)
	return kmin + int(math.Round(float64(d)*float64(kmax-kmin)/float64(dmax)))
}

// rgbOf returns a command colour as RGB, converting from hue/saturation when
// only those are set.
func rgbOf(c *vendors.Color) (r, g, b int) {
	if c.H != nil && c.S != nil && c.R == 0 && c.G == 0 && c.B == 0 {
		return hsToRGB(*c.H, *c.S)
	}
	return clamp(c.R, 0, 255), clamp(c.G, 0, 255), clamp(c.B, 0, 255)
}

// hsOf returns a command colour as hue (0–360) and saturation (0–100).
func hsOf(c *vendors.Color) (h, s float64) {
	if c.H != nil && c.S != nil {
		return math.Mod(math.Max(*c.H, 0), 360), math.Min(math.Max(*c.S, 0), 100)
	}
	return rgbToHS(c.R, c.G, c.B)
}

// hsToRGB converts hue/saturation at full value to RGB.
func hsToRGB(h, s float64) (int, int, int) {
	h = math.Mod(math.Max(h, 0), 360)
	s = math.Min(math.Max(s, 0), 100) / 100
	c := s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := 1 - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	to := func(v float64) int { return clamp(int(math.Round((v+m)*255)), 0, 255) }
	return to(r), to(g), to(b)
}

// rgbToHS converts RGB to hue (0–360) and saturation (0–100).
func rgbToHS(r, g, b int) (float64, float64) {
	rf, gf, bf := float64(clamp(r, 0, 255))/255, float64(clamp(g, 0, 255))/255, float64(clamp(b, 0, 255))/255
	mx := math.Max(rf, math.Max(gf, bf))
	mn := math.Min(rf, math.Min(gf, bf))
	d := mx - mn
	var h float64
	switch {
	case d == 0:
		h = 0
	case mx == rf:
		h = 60 * math.Mod((gf-bf)/d, 6)
	case mx == gf:
		h = 60 * ((bf-rf)/d + 2)
	default:
		h = 60 * ((rf-gf)/d + 4)
	}
	if h < 0 {
		h += 360
	}
	s := 0.0
	if mx > 0 {
		s = d / mx * 100
	}
	return round(h, 1), round(s, 1)
}

// normalize scales a colour so its brightest channel is 255 and returns the
// scale as a brightness (HA keeps colour and brightness apart).
func normalize(r, g, b int) (vendors.Color, int) {
	mx := max(r, g, b)
	if mx <= 0 {
		return vendors.Color{R: 255, G: 255, B: 255}, 0
	}
	f := 255 / float64(mx)
	return vendors.Color{R: clamp(int(math.Round(float64(r)*f)), 0, 255), G: clamp(int(math.Round(float64(g)*f)), 0, 255), B: clamp(int(math.Round(float64(b)*f)), 0, 255)}, mx
}

// scaled multiplies a colour by brightness/255.
func scaled(r, g, b, bright int) (int, int, int) {
	f := float64(clamp(bright, 0, 255)) / 255
	return int(math.Round(float64(r) * f)), int(math.Round(float64(g) * f)), int(math.Round(float64(b) * f))
}
