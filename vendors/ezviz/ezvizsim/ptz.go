package ezvizsim

import "strconv"

var ptzFlags = map[int]string{0: "ptz_top_bottom", 1: "ptz_top_bottom", 2: "ptz_left_right", 3: "ptz_left_right",
	4: "ptz_45", 5: "ptz_45", 6: "ptz_45", 7: "ptz_45", 8: "ptz_zoom", 9: "ptz_zoom", 10: "ptz_focus", 11: "ptz_focus", 16: "support_ptz"}

// ptzStart moves the head until ptzStop; a second start (or a preset move)
// before the stop breaks EZVIZ's rule and counts as a violation.
func (s *Sim) ptzStart(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	ch, bad := s.channelOf(d, c, "channelNo")
	if bad != nil {
		return *bad
	}
	if ch.Caps["support_ptz"] != "1" {
		return fail("60000", "设备不支持云台控制")
	}
	dir, err := strconv.Atoi(c.form["direction"])
	speed, err2 := strconv.Atoi(c.form["speed"])
	if err != nil || err2 != nil || speed < 0 || speed > 2 || ptzFlags[dir] == "" {
		return fail("10001", "参数错误")
	}
	if ch.Caps[ptzFlags[dir]] != "1" {
		return fail("60020", "不支持该命令")
	}
	if bad := online(d, ch); bad != nil {
		return *bad
	}
	if ch.ptzActive {
		s.violate("ptz/start on " + d.Serial + " before ptz/stop")
		return fail("60006", "云台当前操作失败")
	}
	ch.ptzActive = true
	ch.ptzDir = dir
	switch dir {
	case 2:
		ch.Pan -= 10
	case 3:
		ch.Pan += 10
	}
	return ok(nil)
}

func (s *Sim) ptzStop(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	ch, bad := s.channelOf(d, c, "channelNo")
	if bad != nil {
		return *bad
	}
	if bad := online(d, ch); bad != nil {
		return *bad
	}
	ch.ptzActive = false
	return ok(nil)
}

func (s *Sim) presetMove(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	ch, bad := s.channelOf(d, c, "channelNo")
	if bad != nil {
		return *bad
	}
	if ch.Caps["support_ptz"] != "1" || ch.Caps["ptz_preset"] != "1" {
		return fail("60020", "不支持该命令")
	}
	idx, err := strconv.Atoi(c.form["index"])
	if err != nil || idx < 1 {
		return fail("10001", "index参数错误")
	}
	if bad := online(d, ch); bad != nil {
		return *bad
	}
	if ch.ptzActive {
		s.violate("preset/move on " + d.Serial + " before ptz/stop")
		return fail("60009", "正在调用预置点")
	}
	if !d.Presets[idx] {
		return fail("60006", "云台当前操作失败")
	}
	ch.Pan = idx * 30
	return ok(nil)
}
