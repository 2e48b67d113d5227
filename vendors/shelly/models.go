package shelly

import "strings"

// modelNames maps Shelly model codes (v2 "code", consent "deviceCode") to
// product names; unknown codes are shown as they are.
var modelNames = map[string]string{
	"SNSW-001P16EU":  "Shelly Plus 1PM",
	"SNSW-001X16EU":  "Shelly Plus 1",
	"SNSW-102P16EU":  "Shelly Plus 2PM",
	"SNPL-00112EU":   "Shelly Plus Plug S",
	"SNSN-0013A":     "Shelly Plus H&T",
	"SNDM-0013US":    "Shelly Plus Wall Dimmer",
	"SNPM-001PCEU":   "Shelly Plus PM Mini",
	"SPEM-003CEBEU":  "Shelly Pro 3EM",
	"SPEM-002CEBEU":  "Shelly Pro EM",
	"SPSW-001PE16EU": "Shelly Pro 1PM",
	"SHSW-1":         "Shelly 1",
	"SHSW-PM":        "Shelly 1PM",
	"SHSW-25":        "Shelly 2.5",
	"SHPLG-1":        "Shelly Plug",
	"SHPLG-S":        "Shelly Plug S",
	"SHPLG2-1":       "Shelly Plug",
	"SHRGBW2":        "Shelly RGBW2",
	"SHDM-1":         "Shelly Dimmer",
	"SHDM-2":         "Shelly Dimmer 2",
	"SHBDUO-1":       "Shelly Duo",
	"SHVIN-1":        "Shelly Vintage",
	"SHHT-1":         "Shelly H&T",
	"SHWT-1":         "Shelly Flood",
	"SHDW-2":         "Shelly Door/Window 2",
	"SHMOS-01":       "Shelly Motion",
	"SHGS-1":         "Shelly Gas",
	"SHSM-01":        "Shelly Smoke",
	"SHEM":           "Shelly EM",
	"SHEM-3":         "Shelly 3EM",
	"SHUNI-1":        "Shelly UNI",
}

func modelName(code string) string {
	if n, ok := modelNames[strings.ToUpper(code)]; ok {
		return n
	}
	if code == "" {
		return "Shelly device"
	}
	return code
}

// isPlug tells plugs from relays, for the outlet device class.
func isPlug(code, typ string) bool {
	c := strings.ToUpper(code)
	return strings.HasPrefix(c, "SHPLG") || strings.HasPrefix(c, "SNPL") || strings.HasPrefix(c, "S3PL") ||
		strings.HasPrefix(c, "S4PL") || strings.Contains(strings.ToLower(typ), "plug")
}

// gen1Effects are the colour-mode effects of Gen1 lights, by index.
func gen1Effects(code string) []string {
	if strings.EqualFold(code, "SHRGBW2") {
		return []string{"Off", "Meteor Shower", "Gradual Change", "Flash"}
	}
	return []string{"Off", "Meteor Shower", "Gradual Change", "Breath", "Flash", "On/Off Gradual", "Red/Green Change"}
}
