package ewelinksim

import "fmt"

// Gateway is the fixture Zigbee bridge; its sub-devices name it in parentid.
const Gateway = "1000a00018"

// Fixtures are one account's things covering every device family the
// adapter maps: switches, multi-channel, metering, TH, lights, covers, fan,
// RF bridge, door sensors, Zigbee sensors and buttons, unknown uiids, a
// shared device, an offline device and a group, across two homes.
func Fixtures() []Device {
	sw := func(states ...string) []any {
		var out []any
		for i, s := range states {
			out = append(out, map[string]any{"switch": s, "outlet": i})
		}
		return out
	}
	cfg := func(n int) []any {
		var out []any
		for i := 0; i < n; i++ {
			out = append(out, map[string]any{"startup": "off", "outlet": i})
		}
		return out
	}
	names := func(n ...string) map[string]any {
		m := map[string]any{}
		for i, s := range n {
			m[fmt.Sprint(i)] = s
		}
		return map[string]any{"ck_channel_name": m}
	}
	zb := func(p map[string]any) map[string]any {
		p["parentid"] = Gateway
		if _, ok := p["battery"]; !ok {
			p["battery"] = 90
		}
		p["subDevRssi"] = -62
		return p
	}
	return []Device{
		{ID: "1000a00001", Name: "Desk lamp", UIID: 1, Brand: "SONOFF", Model: "BASICR2", ExtraModel: "PSF-BD1-GL", MAC: "d0:27:00:00:00:01",
			Params: map[string]any{"switch": "off", "startup": "stay", "pulse": "off", "pulseWidth": 500, "sledOnline": "on", "fwVersion": "3.5.1", "rssi": -61, "staMac": "D0:27:00:00:00:01"},
			Tags:   names("Lamp")},
		{ID: "1000a00002", Name: "Kitchen strip", UIID: 4, Brand: "SONOFF", Model: "4CHPROR3", ExtraModel: "PSF-B04-GL",
			Params: map[string]any{"switches": sw("on", "off", "off", "on"), "configure": cfg(4), "sledOnline": "on", "fwVersion": "3.6.0", "rssi": -58},
			Tags:   names("Kettle", "Toaster", "Radio", "Lights")},
		{ID: "1000a00003", Name: "Hall switch (shared)", UIID: 2, Brand: "SONOFF", Model: "T1EU2C", Shared: true,
			Params: map[string]any{"switches": sw("off", "off", "off", "off"), "fwVersion": "3.4.0", "rssi": -70}},
		{ID: "1000a00004", Name: "Micro", UIID: 77, Brand: "SONOFF", Model: "Micro",
			Params: map[string]any{"switches": sw("off", "off", "off", "off"), "fwVersion": "1.1.0", "rssi": -50}},
		{ID: "1000a00005", Name: "Heater POW", UIID: 5, Brand: "SONOFF", Model: "POW",
			Params: map[string]any{"switch": "on", "power": "1250.40", "fwVersion": "2.6.1", "rssi": -64}},
		{ID: "1000a00006", Name: "Washer", UIID: 32, Brand: "SONOFF", Model: "POWR2",
			Params: map[string]any{"switch": "on", "startup": "off", "power": "395.48", "voltage": "229.10", "current": "1.72", "fwVersion": "3.5.0", "rssi": -67}},
		{ID: "1000a00007", Name: "Dryer", UIID: 190, Brand: "SONOFF", Model: "POWR320D",
			Params: map[string]any{"switches": sw("on"), "power": 120050, "voltage": 23012, "current": 521, "dayKwh": 150, "monthKwh": 3120, "fwVersion": "1.2.0", "rssi": -55}},
		{ID: "1000a00008", Name: "Dual relay", UIID: 126, Brand: "SONOFF", Model: "DUALR3",
			Params: map[string]any{"switches": sw("on", "off"), "configure": cfg(2), "workMode": 1, "actPow_00": 6012, "actPow_01": 0, "voltage_00": 23100, "voltage_01": 23100, "current_00": 26, "current_01": 0, "fwVersion": "1.4.0", "rssi": -60},
			Tags:   names("Pump", "Fan")},
		{ID: "1000a00009", Name: "Blind motor", UIID: 126, Brand: "SONOFF", Model: "DUALR3",
			Params: map[string]any{"workMode": 2, "motorTurn": 0, "currLocation": 40, "actPow_00": 0, "actPow_01": 0, "fwVersion": "1.4.0", "rssi": -63}},
		{ID: "1000a0000a", Name: "Greenhouse TH", UIID: 15, Brand: "SONOFF", Model: "TH16",
			Params: map[string]any{"switch": "off", "mainSwitch": "off", "deviceType": "normal", "currentTemperature": "21.5", "currentHumidity": "unavailable", "sensorType": "DS18B20", "fwVersion": "3.5.0", "rssi": -71}},
		{ID: "1000a0000b", Name: "Bathroom thermostat", UIID: 181, Brand: "SONOFF", Model: "THR316D",
			Params: map[string]any{"switch": "on", "currentTemperature": "22.1", "currentHumidity": "48", "autoControlEnabled": 0, "fwVersion": "1.1.0", "rssi": -52}},
		{ID: "1000a0000c", Name: "B1 bulb", UIID: 22, Brand: "SONOFF", Model: "B1",
			Params: map[string]any{"state": "on", "zyx_mode": 1, "channel0": "150", "channel1": "0", "channel2": "0", "channel3": "0", "channel4": "0", "fwVersion": "2.7.0", "rssi": -66}},
		{ID: "1000a0000d", Name: "Stair dimmer", UIID: 36, Brand: "KingArt", Model: "KING-M4",
			Params: map[string]any{"switch": "on", "bright": 60, "fwVersion": "2.8.0", "rssi": -59}},
		{ID: "1000a0000e", Name: "D1 dimmer", UIID: 44, Brand: "SONOFF", Model: "D1",
			Params: map[string]any{"switch": "off", "brightness": 40, "mode": 0, "fwVersion": "3.5.0", "rssi": -57}},
		{ID: "1000a0000f", Name: "Lantern", UIID: 57, Brand: "eWeLink", Model: "Lamp57",
			Params: map[string]any{"state": "off", "channel0": "120", "fwVersion": "1.0.0", "rssi": -73}},
		{ID: "1000a00010", Name: "LED strip", UIID: 59, Brand: "SONOFF", Model: "L1",
			Params: map[string]any{"switch": "on", "bright": 80, "colorR": 255, "colorG": 120, "colorB": 0, "light_type": 1, "mode": 1, "fwVersion": "2.9.0", "rssi": -62}},
		{ID: "1000a00011", Name: "B02 bulb", UIID: 103, Brand: "SONOFF", Model: "B02-F-A60",
			Params: map[string]any{"switch": "on", "ltype": "white", "white": map[string]any{"br": 70, "ct": 100}, "fwVersion": "1.3.0", "rssi": -60}},
		{ID: "1000a00012", Name: "B05 bulb", UIID: 104, Brand: "SONOFF", Model: "B05-B-A60",
			Params: map[string]any{"switch": "on", "ltype": "color", "color": map[string]any{"br": 60, "r": 0, "g": 120, "b": 255}, "white": map[string]any{"br": 50, "ct": 128}, "fwVersion": "1.3.0", "rssi": -61}},
		{ID: "1000a00013", Name: "Living room curtain", UIID: 11, Brand: "KingArt", Model: "KING-Q4",
			Params: map[string]any{"switch": "on", "setclose": 30, "fwVersion": "2.7.0", "rssi": -66}},
		{ID: "1000a00014", Name: "Garage door", UIID: 67, Brand: "KingArt", Model: "KING-Q1",
			Params: map[string]any{"op": 2, "per": 0, "fwVersion": "1.0.1", "rssi": -75}},
		{ID: "1000a00015", Name: "Ceiling fan", UIID: 34, Brand: "SONOFF", Model: "iFan03",
			Params: map[string]any{"switches": sw("on", "on", "on", "off"), "fwVersion": "3.5.0", "rssi": -58}},
		{ID: "1000a00016", Name: "RF bridge", UIID: 28, Brand: "SONOFF", Model: "RFBridge433",
			Params: map[string]any{"rfList": []any{map[string]any{"rfChl": 0, "rfVal": "24E8015E0384"}, map[string]any{"rfChl": 1, "rfVal": "24E8015E0385"}, map[string]any{"rfChl": 2, "rfVal": "26AC0124048E"}},
				"rfTrig0": "2026-01-01T10:00:00.000Z", "fwVersion": "3.4.0", "rssi": -64},
			Tags: map[string]any{"zyx_info": []any{
				map[string]any{"name": "Gate remote", "remote_type": "2", "buttonName": []any{map[string]any{"0": "Open"}, map[string]any{"1": "Close"}}},
				map[string]any{"name": "Doorbell", "remote_type": "6", "buttonName": []any{map[string]any{"2": "Ring"}}}}}},
		{ID: "1000a00017", Name: "Front door", UIID: 102, Brand: "SONOFF", Model: "DW2",
			Params: map[string]any{"switch": "off", "battery": 2.9, "type": 4, "fwVersion": "1.2.0", "rssi": -69}},
		{ID: Gateway, Name: "Zigbee bridge", UIID: 66, Brand: "SONOFF", Model: "ZBBridge",
			Params: map[string]any{"sledOnline": "on", "zled": "on", "fwVersion": "2.2.0", "rssi": -54}},
		{ID: "a480000001", Name: "Bedroom climate", UIID: 1770, Brand: "SONOFF", Model: "SNZB-02",
			Params: zb(map[string]any{"temperature": "2356", "humidity": "4810"})},
		{ID: "a480000002", Name: "Hall motion", UIID: 2026, Brand: "SONOFF", Model: "SNZB-03",
			Params: zb(map[string]any{"motion": 0, "battery": 80})},
		{ID: "a480000003", Name: "Back door", UIID: 3026, Brand: "SONOFF", Model: "SNZB-04",
			Params: zb(map[string]any{"lock": 0, "battery": 95})},
		{ID: "a480000004", Name: "Basement leak", UIID: 4026, Brand: "SONOFF", Model: "SNZB-05",
			Params: zb(map[string]any{"water": 0, "battery": 100})},
		{ID: "a480000005", Name: "Smoke alarm", UIID: 5026, Brand: "SONOFF", Model: "SNZB-smoke",
			Params: zb(map[string]any{"smoke": 0})},
		{ID: "a480000006", Name: "Office presence", UIID: 7016, Brand: "SONOFF", Model: "SNZB-06P",
			Params: zb(map[string]any{"human": 0, "brState": "darker"})},
		{ID: "a480000007", Name: "Bedside button", UIID: 1000, Brand: "SONOFF", Model: "SNZB-01",
			Params: zb(map[string]any{"key": 0, "trigTime": "1767225600000", "battery": 70})},
		{ID: "a480000008", Name: "Porch light relay", UIID: 1256, Brand: "SONOFF", Model: "ZBMINI",
			Params: zb(map[string]any{"switch": "on"})},
		{ID: "a480000009", Name: "Reading lamp", UIID: 1257, Brand: "SONOFF", Model: "ZB white",
			Params: zb(map[string]any{"switch": "on", "brightness": 50})},
		{ID: "a48000000a", Name: "Kitchen CCT", UIID: 1258, Brand: "SONOFF", Model: "ZB CCT",
			Params: zb(map[string]any{"switch": "on", "brightness": 80, "colorTemp": 30})},
		{ID: "a48000000b", Name: "Lounge RGBCW", UIID: 3258, Brand: "SONOFF", Model: "ZB RGBCW",
			Params: zb(map[string]any{"switch": "on", "colorMode": "cct", "cctBrightness": 60, "colorTemp": 50, "rgbBrightness": 50, "hue": 200, "saturation": 80})},
		{ID: "a48000000c", Name: "Bedroom curtain", UIID: 1514, Brand: "SONOFF", Model: "ZB curtain",
			Params: zb(map[string]any{"curPercent": 100, "curtainAction": "pause", "battery": 80})},
		{ID: "a48000000d", Name: "Corridor 4-gang", UIID: 4256, Brand: "SONOFF", Model: "ZB 4-gang",
			Params: zb(map[string]any{"switches": sw("off", "on", "off", "off")})},
		{ID: "1000a00019", Name: "M5 wall switch", UIID: 162, Brand: "SONOFF", Model: "M5-3C",
			Params: map[string]any{"switches": sw("off", "off", "off"), "configure": cfg(3), "fwVersion": "1.0.2", "rssi": -57}},
		{ID: "1000b00001", Name: "Cabin plug", UIID: 182, Brand: "SONOFF", Model: "S40", Family: "cabin",
			Params: map[string]any{"switches": sw("on"), "power": "3.20", "voltage": "228.00", "current": "0.02", "fwVersion": "1.0.0", "rssi": -66}},
		{ID: "1000b00002", Name: "Mystery plug", UIID: 9901, Brand: "Acme", Model: "X1", Family: "cabin",
			Params: map[string]any{"switch": "off", "rssi": -70}},
		{ID: "1000b00003", Name: "Mystery strip", UIID: 9902, Brand: "Acme", Model: "X2", Family: "cabin",
			Params: map[string]any{"switches": sw("off", "on"), "rssi": -70}},
		{ID: "1000b00004", Name: "Garden pump", UIID: 1, Brand: "SONOFF", Model: "BASICR2", Family: "cabin", Offline: true,
			Params: map[string]any{"switch": "off", "fwVersion": "3.5.1"}},
		{ID: "1000b00005", Name: "Cabin light", UIID: 136, Brand: "SONOFF", Model: "B05-BL", Family: "cabin",
			Params: map[string]any{"switch": "off", "ltype": "white", "white": map[string]any{"br": 40, "ct": 60}, "color": map[string]any{"br": 50, "r": 255, "g": 0, "b": 0}, "fwVersion": "1.0.0", "rssi": -60}},
		{ID: "1000b00006", Name: "Cabin blind", UIID: 258, Brand: "SONOFF", Model: "MINI-RBS", Family: "cabin",
			Params: map[string]any{"switch": "off", "setclose": 100, "fwVersion": "1.0.0", "rssi": -61}},
	}
}

// Scaled repeats the fixtures until about n devices (n ≤ len(Fixtures()):
// the fixtures). Copies get new ids; sub-devices point at their copy's gateway.
func Scaled(n int) []Device {
	base := Fixtures()
	if n <= len(base) {
		return base
	}
	gw := 0
	for i, d := range base {
		if d.ID == Gateway {
			gw = i
		}
	}
	copyID := func(c, i int) string { return fmt.Sprintf("c%02x%07x", c%256, i) }
	out := append([]Device(nil), base...)
	for c := 1; len(out) < n; c++ {
		for i, d := range Fixtures() {
			if len(out) >= n {
				break
			}
			d.ID = copyID(c, i)
			d.Name = fmt.Sprintf("%s #%d", d.Name, c+1)
			if d.Params["parentid"] == Gateway {
				d.Params["parentid"] = copyID(c, gw)
			}
			out = append(out, d)
		}
	}
	return out
}
