package ewelink

// spec is what a uiid maps to: a family name (for docs and the model
// fallback) and its features.
type spec struct {
	family   string
	features []feature
}

// uiids is the mapping table (reference §9.2). Adding a uiid is one line.
var uiids = map[int]spec{
	// single switches
	1: plug("switch"), 6: plug("switch"), 14: plug("switch"),
	1009: zigbeeSwitch(), 1256: zigbeeSwitch(), 7004: zigbeeSwitch(), 7010: zigbeeSwitch(),
	// multi-channel switches
	2: multi(2), 3: multi(3), 4: multi(4), 7: multi(2), 8: multi(3), 9: multi(4),
	29: multi(2), 30: multi(3), 31: multi(4), 77: multi(1), 78: multi(1), 81: multi(1),
	82: multi(2), 83: multi(3), 84: multi(4), 107: multi(1), 112: multi(1), 113: multi(2), 114: multi(3),
	138: multiButtons(1), 160: multiButtons(1), 161: multiButtons(2), 162: multiButtons(3), 165: multi(2),
	2256: zigbeeMulti(2), 3256: zigbeeMulti(3), 4256: zigbeeMulti(4), 7029: zigbeeMulti(2),
	// power metering
	5: pow(false), 32: pow(true), 182: s40(), 190: powR3(), 126: dualR3Switches(2), 130: dualR3Switches(4),
	// temperature / humidity
	15: th16(), 181: thr3(), 1770: zigbeeTH(0.01), 1771: zigbeeTH(0.01), 7014: zigbeeTH(0.01),
	7033: zigbeeTH(1), 7038: zigbeeTH(0.01), 242: zigbeeTH(0.01),
	// lights
	22: lightSpec("B1", b1{}), 36: lightSpec("dimmer", dimmer{pw: "switch", param: "bright", lo: 10, hi: 100}),
	44: lightSpec("D1 dimmer", dimmer{pw: "switch", param: "brightness", lo: 1, hi: 100, d1: true}),
	57: lightSpec("bulb", dimmer{pw: "state", param: "channel0", lo: 25, hi: 255, asString: true}),
	33: lightSpec("L1 strip", stripL1{}), 59: lightSpec("LED strip", stripL1{}), 137: lightSpec("L1 strip", stripL1{}), 173: lightSpec("L3 strip", stripL1{}),
	103: lightSpec("B02 bulb", b02()), 135: lightSpec("B02 bulb", b02()), 104: lightSpec("B05 bulb", b05(255)), 136: lightSpec("B05-BL bulb", b05(100)),
	1257: zigbeeLight(dimmer{pw: "switch", param: "brightness", lo: 1, hi: 100}), 1258: zigbeeLight(zigbeeCCT{}),
	3258: zigbeeLight(zigbeeRGBCW{}), 7009: zigbeeLight(zigbeeRGBCW{}),
	// covers
	11: coverSpec(setclose{}, "curtain"), 258: coverSpec(setclose{}, "shutter"), 7034: zigbeeCover(setclose{}, "shutter"),
	1514: zigbeeCover(curtain{}, "curtain"), 7006: zigbeeCover(curtain{}, "curtain"),
	67: coverSpec(garage{}, "garage"), 91: coverSpec(garage{}, "garage"),
	// fan
	34: {family: "iFan", features: append([]feature{ifan{}}, wifiExtras...)},
	// RF bridge
	28: {family: "RF Bridge", features: append([]feature{rfBridge{}}, wifiExtras...)},
	// Wi-Fi door sensors
	102: wifiDoor(sensor{param: "battery", key: "battery", name: "Battery", class: "voltage", unit: "V", category: "diagnostic", decimals: 2}),
	154: wifiDoor(batteryPercent()),
	// Zigbee binary sensors
	2026: zigbeeBinary(binary{param: "motion", key: "motion", class: "motion", offWhenOffline: true}),
	7002: zigbeeBinary(binary{param: "motion", key: "motion", class: "motion", offWhenOffline: true}, brightness()),
	3026: zigbeeBinary(binary{param: "lock", key: "contact", class: "door"}),
	7003: zigbeeBinary(binary{param: "lock", key: "contact", class: "door"}),
	4026: zigbeeBinary(binary{param: "water", key: "moisture", class: "moisture"}),
	7019: zigbeeBinary(binary{param: "water", key: "moisture", class: "moisture"}),
	5026: zigbeeBinary(binary{param: "smoke", key: "smoke", class: "smoke"}),
	7016: zigbeeBinary(binary{param: "human", key: "occupancy", class: "occupancy", offWhenOffline: true}, brightness()),
	7055: zigbeeBinary(binary{param: "human", key: "occupancy", class: "occupancy", offWhenOffline: true}, brightness()),
	// Zigbee buttons
	1000: zigbeeButton(), 7000: zigbeeButton(), 7039: zigbeeButton(),
	// Zigbee gateways (their sub-devices are things of their own)
	66: gateway(), 168: gateway(), 243: gateway(),
}

// wifiExtras are the common Wi-Fi params; each appears only if reported.
var wifiExtras = []feature{led{}, rssiSensor("rssi")}

// zigbeeExtras are the common Zigbee sub-device params.
var zigbeeExtras = []feature{batteryPercent(), rssiSensor("subDevRssi")}

func with(family string, main []feature, extras []feature) spec {
	return spec{family: family, features: append(append([]feature{}, main...), extras...)}
}

func plug(class string) spec {
	return with("switch", []feature{onOffSwitch{class: class}, startup{}, inching{}}, wifiExtras)
}

func multi(n int) spec {
	return with("multi-channel switch", []feature{channels{n: n, class: "switch"}, startup{channels: n}}, wifiExtras)
}

func multiButtons(n int) spec {
	return with("multi-channel switch", []feature{channels{n: n, class: "switch"}, startup{channels: n}, buttonEvents{outlets: n}}, wifiExtras)
}

func zigbeeSwitch() spec {
	return with("Zigbee switch", []feature{onOffSwitch{class: "switch"}}, zigbeeExtras)
}

func zigbeeMulti(n int) spec {
	return with("Zigbee multi-gang switch", []feature{channels{n: n, class: "switch", full: true}}, zigbeeExtras)
}

// meterSensors are power/voltage/current from params named p, v, c.
func meterSensors(p, v, c string, scale float64, suffix string) []feature {
	name := func(s string) string {
		if suffix == "" {
			return s
		}
		return s + " " + suffix
	}
	key := func(s string) string {
		if suffix == "" {
			return s
		}
		return s + "_" + suffix
	}
	return []feature{
		sensor{param: p, key: key("power"), name: name("Power"), class: "power", unit: "W", scale: scale, decimals: 2},
		sensor{param: v, key: key("voltage"), name: name("Voltage"), class: "voltage", unit: "V", scale: scale, decimals: 2, disabled: true},
		sensor{param: c, key: key("current"), name: name("Current"), class: "current", unit: "A", scale: scale, decimals: 3, disabled: true},
	}
}

func pow(startupSelect bool) spec {
	main := []feature{onOffSwitch{class: "outlet"}}
	if startupSelect {
		main = append(main, startup{})
	}
	main = append(main, meterSensors("power", "voltage", "current", 1, "")...)
	main = append(main, energy{kind: hundredDays})
	return with("power meter", main, wifiExtras)
}

func s40() spec {
	main := append([]feature{channels{n: 1, class: "outlet"}}, meterSensors("power", "voltage", "current", 1, "")...)
	return with("power meter", append(main, energy{kind: hundredDays}), wifiExtras)
}

func powR3() spec {
	main := append([]feature{channels{n: 1, class: "outlet", operSide: true}}, meterSensors("power", "voltage", "current", 0.01, "")...)
	return with("power meter", append(main, energy{kind: hourly}), wifiExtras)
}

func dualR3Meters(n int) []feature {
	var out []feature
	for ch := 0; ch < n; ch++ {
		out = append(out, meterSensors(
			"actPow_0"+itoa(ch), "voltage_0"+itoa(ch), "current_0"+itoa(ch), 0.01, itoa(ch+1))...)
	}
	return append(out, energy{kind: dualR3, channels: n})
}

func dualR3Switches(n int) spec {
	main := append([]feature{channels{n: n, class: "switch"}, startup{channels: n}}, dualR3Meters(n)...)
	return with("DUAL R3", main, wifiExtras)
}

// dualR3Cover is the DUALR3 in motor mode (workMode 2).
func dualR3Cover(n int) spec {
	main := append([]feature{cover{kind: dualMotor{}, class: "curtain"}}, dualR3Meters(n)...)
	return with("DUAL R3 (motor)", main, wifiExtras)
}

func th16() spec {
	return with("TH", []feature{
		onOffSwitch{class: "switch", th: true},
		sensor{param: "currentTemperature", key: "temperature", name: "Temperature", class: "temperature", unit: "°C", decimals: 2, valid: th16Temp},
		sensor{param: "currentHumidity", key: "humidity", name: "Humidity", class: "humidity", unit: "%", decimals: 2, valid: plausibleHumidity},
	}, wifiExtras)
}

func thr3() spec {
	return with("TH", []feature{
		onOffSwitch{class: "switch"},
		sensor{param: "currentTemperature", key: "temperature", name: "Temperature", class: "temperature", unit: "°C", decimals: 2, valid: plausibleTemp},
		sensor{param: "currentHumidity", key: "humidity", name: "Humidity", class: "humidity", unit: "%", decimals: 2, valid: plausibleHumidity},
	}, wifiExtras)
}

func zigbeeTH(scale float64) spec {
	return with("Zigbee TH sensor", []feature{
		sensor{param: "temperature", key: "temperature", name: "Temperature", class: "temperature", unit: "°C", scale: scale, decimals: 2, valid: plausibleTemp},
		sensor{param: "humidity", key: "humidity", name: "Humidity", class: "humidity", unit: "%", scale: scale, decimals: 2, valid: plausibleHumidity},
	}, zigbeeExtras)
}

func lightSpec(family string, k lightKind) spec {
	return with(family, []feature{newLight(k)}, wifiExtras)
}

func zigbeeLight(k lightKind) spec {
	return with("Zigbee light", []feature{newLight(k)}, zigbeeExtras)
}

func coverSpec(k coverKind, class string) spec {
	return with("cover", []feature{cover{kind: k, class: class}}, wifiExtras)
}

func zigbeeCover(k coverKind, class string) spec {
	return with("Zigbee cover", []feature{cover{kind: k, class: class}}, zigbeeExtras)
}

func wifiDoor(battery feature) spec {
	return with("door sensor", []feature{binary{param: "switch", key: "contact", class: "door", onValue: "on"}, battery}, wifiExtras)
}

func brightness() feature {
	return binary{param: "brState", key: "bright", name: "Light", class: "light", onValue: "brighter"}
}

func zigbeeBinary(main ...feature) spec {
	return with("Zigbee sensor", main, zigbeeExtras)
}

func zigbeeButton() spec {
	return with("Zigbee button", []feature{buttonEvents{}}, zigbeeExtras)
}

func gateway() spec {
	return with("Zigbee bridge", nil, wifiExtras)
}

// fallback is the spec of an unknown uiid (reference §9.2, last row).
func fallback(p params) spec {
	switch {
	case p["switch"] != nil:
		return plug("switch")
	case p["switches"] != nil:
		return with("multi-channel switch", []feature{channels{class: "switch", fallback: true}}, wifiExtras)
	}
	return with("unknown", nil, wifiExtras)
}

// specFor picks the spec of a device; DUALR3s in motor mode are covers.
func specFor(uiid int, p params) spec {
	if uiid == 126 {
		if m, ok := integer(p["workMode"]); ok && m == 2 {
			return dualR3Cover(2)
		}
	}
	if s, ok := uiids[uiid]; ok {
		return s
	}
	return fallback(p)
}

// knownUIID reports whether uiid is in the table.
func knownUIID(uiid int) bool {
	_, ok := uiids[uiid]
	return ok
}
