package ezvizsim

import (
	"sort"
	"strconv"
	"time"
)

type alarm struct {
	id      string
	typ     int
	at      time.Time
	serial  string
	channel int
	name    string
	checked bool
}

// Alarm types the simulator raises (EZVIZ alarm type codes).
const (
	AlarmMotion   = 10002
	AlarmPIR      = 10010
	AlarmDoorbell = 10016
	AlarmContact  = 10004
	AlarmSmoke    = 10005
	AlarmGas      = 10006
	AlarmWater    = 10008
	AlarmNVRMove  = 12000
)

// TriggerAlarm adds an alarm message as the device would raise it and
// returns its alarmId.
func (s *Sim) TriggerAlarm(serial string, channel, alarmType int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.triggerLocked(serial, channel, alarmType, time.Now())
}

// TriggerAlarmAt adds an alarm message with the given time (late or old arrivals).
func (s *Sim) TriggerAlarmAt(serial string, channel, alarmType int, at time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.triggerLocked(serial, channel, alarmType, at)
}

func (s *Sim) triggerLocked(serial string, channel, alarmType int, at time.Time) string {
	s.alarmSeq++
	id := strconv.FormatInt(240279120256334910+s.alarmSeq, 10)
	name := serial
	if d := s.devices[serial]; d != nil {
		name = d.Name
		if ch := d.channel(channel); ch != nil {
			name = ch.Name
		}
	}
	s.alarms = append(s.alarms, &alarm{id: id, typ: alarmType, at: at, serial: serial, channel: channel, name: name})
	return id
}

// alarmList answers alarms in [startTime, endTime] (ms), newest first,
// filtered by status (0 unread, 1 read, 2 all) and alarmType (-1 all).
func (s *Sim) alarmList(c *call) reply {
	start, size, bad := s.paging(c)
	if bad != nil {
		return *bad
	}
	from, _ := strconv.ParseInt(c.form["startTime"], 10, 64)
	to, err := strconv.ParseInt(c.form["endTime"], 10, 64)
	if err != nil {
		to = c.now.UnixMilli()
	}
	if from != 0 && c.now.Sub(time.UnixMilli(from)) > 7*24*time.Hour {
		return fail("10001", "startTime超出7天")
	}
	status := atoi(c.form["status"], 0)
	typ := atoi(c.form["alarmType"], -1)
	serial := c.form["deviceSerial"]
	var match []*alarm
	for _, a := range s.alarms {
		d := s.devices[a.serial]
		if d == nil || !c.reachable(d) {
			continue
		}
		ms := a.at.UnixMilli()
		if ms < from || ms > to || (typ != -1 && a.typ != typ) || (serial != "" && a.serial != serial) {
			continue
		}
		if (status == 0 && a.checked) || (status == 1 && !a.checked) {
			continue
		}
		match = append(match, a)
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].at.After(match[j].at) })
	pageItems, page := pageOf(match, start, size)
	items := []map[string]any{}
	for _, a := range pageItems {
		items = append(items, map[string]any{
			"alarmId": a.id, "alarmName": a.name, "alarmType": a.typ, "alarmTime": a.at.UnixMilli(),
			"channelNo": a.channel, "isEncrypt": 0, "isChecked": b01(a.checked), "preTime": 10, "delayTime": 30,
			"deviceSerial": a.serial, "alarmPicUrl": s.area.url + "/pic/alarm/" + a.id + ".jpg?Expires=1&Signature=x",
			"relationAlarms": []any{}, "customerType": nil, "customerInfo": nil,
		})
	}
	r := ok(items)
	r.page = page
	return r
}
