package discovery

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func plugDevice(i int) vendors.Device {
	return vendors.Device{
		ID: "1000ab" + strconv.Itoa(i), Name: "Plug " + strconv.Itoa(i), Manufacturer: "SONOFF", Model: "S40",
		SWVersion: "1.4.2", MAC: "d0:27:00:00:00:01", Entities: plugEntities(),
	}
}

func BenchmarkDevicePayload(b *testing.B) {
	d := plugDevice(1)
	var n int
	b.ReportAllocs()
	for b.Loop() {
		p, err := testConfig.DevicePayload("ewelink", &d, Override{})
		if err != nil {
			b.Fatal(err)
		}
		n = len(p)
	}
	b.ReportMetric(float64(n), "bytes/payload")
}

func BenchmarkBridgePayload(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := testConfig.BridgePayload(bridgeAccounts); err != nil {
			b.Fatal(err)
		}
	}
}

// entityAbbreviations are Home Assistant's abbreviations (mqtt/abbreviations.py)
// of the entity options the payloads use; only to measure what they would save.
var entityAbbreviations = map[string]string{
	"availability": "avty", "availability_mode": "avty_mode", "topic": "t", "state_topic": "stat_t",
	"command_topic": "cmd_t", "value_template": "val_tpl", "unique_id": "uniq_id", "device_class": "dev_cla",
	"unit_of_measurement": "unit_of_meas", "state_class": "stat_cla", "entity_category": "ent_cat",
	"enabled_by_default": "en", "icon": "ic", "payload_on": "pl_on", "payload_off": "pl_off", "state_on": "stat_on",
	"state_off": "stat_off", "options": "ops", "payload_press": "pl_prs", "suggested_display_precision": "sug_dsp_prc",
	"supported_color_modes": "sup_clrm", "brightness_scale": "bri_scl", "effect_list": "fx_list",
	"payload_open": "pl_open", "payload_close": "pl_cls", "payload_stop": "pl_stop", "state_open": "stat_open",
	"state_opening": "stat_opening", "state_closed": "stat_clsd", "state_closing": "stat_closing",
	"state_stopped": "stat_stopped", "position_topic": "pos_t", "position_template": "pos_tpl",
	"set_position_topic": "set_pos_t", "state_value_template": "stat_val_tpl",
	"percentage_command_topic": "pct_cmd_t", "percentage_state_topic": "pct_stat_t",
	"percentage_value_template": "pct_val_tpl", "percentage_command_template": "pct_cmd_tpl",
	"speed_range_min": "spd_rng_min", "speed_range_max": "spd_rng_max", "supported_features": "sup_feat",
	"code_arm_required": "cod_arm_req",
}

func abbreviate(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if a, ok := entityAbbreviations[k]; ok {
				k = a
			}
			out[k] = abbreviate(x)
		}
		return out
	case []any:
		for i := range v {
			v[i] = abbreviate(v[i])
		}
	}
	return v
}

// TestAbbreviationSaving measures the choice documented on obj: full entity
// option names cost little, because topics and templates are most of a payload.
func TestAbbreviationSaving(t *testing.T) {
	d := plugDevice(1)
	full, err := testConfig.DevicePayload("ewelink", &d, Override{})
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(full, &v); err != nil {
		t.Fatal(err)
	}
	short, _ := json.Marshal(abbreviate(v))
	saving := 1 - float64(len(short))/float64(len(full))
	t.Logf("8-entity plug: %d bytes with full names, %d abbreviated (%.0f%% less); 10,000 such devices: %.1f MB vs %.1f MB retained",
		len(full), len(short), saving*100, float64(len(full))*1e4/1e6, float64(len(short))*1e4/1e6)
	if len(full) > 5000 {
		t.Errorf("a typical device's config grew to %d bytes", len(full))
	}
	if saving > 0.30 {
		t.Errorf("abbreviations would save %.0f%%: reconsider the full names", saving*100)
	}
}
