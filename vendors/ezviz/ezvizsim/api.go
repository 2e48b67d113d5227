package ezvizsim

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// call is one authenticated business call.
type call struct {
	path  string
	form  map[string]string
	now   time.Time
	trust bool // the da. token
}

type handler func(s *Sim, c *call) reply

var handlers = map[string]handler{
	"/api/lapp/device/list":                (*Sim).deviceList,
	"/api/lapp/device/info":                (*Sim).deviceInfo,
	"/api/lapp/device/camera/list":         (*Sim).cameraList,
	"/api/lapp/device/capacity":            (*Sim).capacity,
	"/api/lapp/device/status/get":          (*Sim).status,
	"/api/lapp/device/defence/set":         (*Sim).defenceSet,
	"/api/lapp/device/scene/switch/status": (*Sim).privacyStatus,
	"/api/lapp/device/scene/switch/set":    (*Sim).privacySet,
	"/api/lapp/device/infrared/switch/get": switchGet(func(d *Device, c *Channel) *int { return &c.IR }),
	"/api/lapp/device/infrared/switch/set": switchSet(func(d *Device, c *Channel) *int { return &c.IR }),
	"/api/lapp/camera/video/sound/status":  (*Sim).audioStatus,
	"/api/lapp/camera/video/sound/set":     switchSet(func(d *Device, c *Channel) *int { return &c.Audio }),
	"/api/lapp/device/sound/switch/status": switchGet(func(d *Device, c *Channel) *int { return &d.PromptSound }),
	"/api/lapp/device/sound/switch/set":    switchSet(func(d *Device, c *Channel) *int { return &d.PromptSound }),
	"/api/lapp/device/alarm/sound/set":     (*Sim).alarmSoundSet,
	"/api/lapp/device/capture":             (*Sim).capture,
	"/api/lapp/device/ptz/start":           (*Sim).ptzStart,
	"/api/lapp/device/ptz/stop":            (*Sim).ptzStop,
	"/api/lapp/device/preset/move":         (*Sim).presetMove,
	"/api/lapp/device/version/info":        (*Sim).versionInfo,
	"/api/lapp/device/upgrade":             (*Sim).upgrade,
	"/api/lapp/device/upgrade/status":      (*Sim).upgradeStatus,
	"/api/lapp/detector/list":              (*Sim).detectorList,
	"/api/lapp/alarm/list":                 (*Sim).alarmList,
	"/api/lapp/alarm/device/list":          (*Sim).alarmList,
	"/api/lapp/trust/device/list":          (*Sim).trustList,
	"/api/lapp/trust/cancel":               (*Sim).trustCancel,
}

func (s *Sim) business(path string, form map[string]string, now time.Time) reply {
	tok := form["accessToken"]
	ti, known := s.tokens[tok]
	if tok == "" {
		return fail("10001", "accessToken为空")
	}
	if !known || ti.revoked || now.After(ti.expires) {
		return fail("10002", "accessToken异常或过期")
	}
	h := handlers[path]
	if h == nil {
		return fail("10001", "接口不存在")
	}
	return h(s, &call{path: path, form: form, now: now, trust: ti.trust})
}

// reachable says whether the caller's token covers the device: app tokens
// the app owner's devices, the trust token the devices users trusted.
func (c *call) reachable(d *Device) bool {
	if c.trust {
		return d.UserOwned && d.Trusted
	}
	return !d.UserOwned
}

// device finds the deviceSerial of the call; the reply is set when it fails.
func (s *Sim) device(c *call) (*Device, *reply) {
	serial := c.form["deviceSerial"]
	if serial == "" {
		r := fail("10001", "deviceSerial为空")
		return nil, &r
	}
	if serial != strings.ToUpper(serial) {
		r := fail("20014", "deviceSerial不合法")
		return nil, &r
	}
	d := s.devices[serial]
	if d == nil {
		r := fail("20002", "设备不存在")
		return nil, &r
	}
	if !c.reachable(d) {
		r := fail("20018", "该用户不拥有该设备")
		return nil, &r
	}
	return d, nil
}

// online fails calls that must reach the device itself.
func online(d *Device, ch *Channel) *reply {
	if !d.Online || (ch != nil && !ch.Online) {
		r := fail("20007", "设备不在线")
		return &r
	}
	if d.Asleep {
		r := fail("20008", "设备响应超时")
		return &r
	}
	return nil
}

// channelOf reads channelNo (default 1).
func (s *Sim) channelOf(d *Device, c *call, param string) (*Channel, *reply) {
	no := atoi(c.form[param], 1)
	ch := d.channel(no)
	if ch == nil {
		r := fail("20032", "该用户下通道不存在")
		return nil, &r
	}
	return ch, nil
}

// paging reads pageStart/pageSize: pageSize over 50 is refused (EZVIZ max).
func (s *Sim) paging(c *call) (int, int, *reply) {
	start := atoi(c.form["pageStart"], 0)
	size := atoi(c.form["pageSize"], 10)
	if size > 50 || size < 1 || start < 0 || start > 400 {
		s.violate("paging out of range: pageSize " + c.form["pageSize"])
		r := fail("10001", "分页参数错误")
		return 0, 0, &r
	}
	return start, size, nil
}

func pageOf[T any](all []T, start, size int) ([]T, map[string]int) {
	lo := min(start*size, len(all))
	hi := min(lo+size, len(all))
	return all[lo:hi], map[string]int{"total": len(all), "page": start, "size": size}
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Sim) deviceList(c *call) reply {
	start, size, bad := s.paging(c)
	if bad != nil {
		return *bad
	}
	var items []map[string]any
	if !c.trust {
		for _, serial := range s.sortedSerials() {
			d := s.devices[serial]
			if d.UserOwned {
				continue
			}
			items = append(items, map[string]any{
				"id": "0" + serial, "deviceSerial": d.Serial, "deviceName": d.Name, "deviceType": d.Model,
				"status": b01(d.Online), "defence": d.Defence, "deviceVersion": d.Version,
				"parentCategory": d.Category, "addTime": 1693806032741, "updateTime": c.now.UnixMilli(), "riskLevel": 0,
			})
		}
	}
	data, page := pageOf(items, start, size)
	if data == nil {
		data = []map[string]any{}
	}
	r := ok(data)
	r.page = page
	return r
}

func (s *Sim) deviceInfo(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	return ok(map[string]any{
		"deviceSerial": d.Serial, "deviceName": d.Name, "model": d.Model, "status": b01(d.Online),
		"defence": d.Defence, "isEncrypt": 0, "alarmSoundMode": d.AlarmSound, "category": d.Category,
		"parentCategory": d.Category, "netType": "wire", "signal": strconv.Itoa(max(d.Signal, 0)) + "%",
	})
}

func (s *Sim) cameraList(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	items := []map[string]any{}
	for _, ch := range d.Channels {
		status := b01(ch.Online && d.Online)
		items = append(items, map[string]any{
			"deviceSerial": d.Serial, "ipcSerial": d.Serial, "channelNo": ch.No, "deviceName": d.Name,
			"channelName": ch.Name, "status": status, "isShared": "0", "picUrl": "", "isEncrypt": 0,
			"videoLevel": 2, "relatedIpc": d.Category == "NVR",
		})
	}
	return ok(items)
}

func (s *Sim) capacity(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	caps := d.Caps
	if c.form["channelNo"] != "" {
		ch, bad := s.channelOf(d, c, "channelNo")
		if bad != nil {
			return *bad
		}
		caps = ch.Caps
	}
	out := map[string]string{}
	for k, v := range caps {
		out[k] = v
	}
	return ok(out)
}

func (s *Sim) status(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	if c.form["channelNo"] != "" && c.form["channel"] == "" {
		s.violate("status/get takes channel, not channelNo")
	}
	ch, bad := s.channelOf(d, c, "channel")
	if bad != nil && len(d.Channels) > 0 {
		return *bad
	}
	if !d.Online {
		return fail("20007", "设备不在线")
	}
	privacy := -2
	if ch != nil && ch.Caps["support_privacy"] == "1" {
		privacy = ch.Privacy
	}
	wake := -1
	if d.Caps["support_sleep"] == "1" {
		wake = b01(d.Asleep)
	}
	disks := 0
	for _, r := range d.DiskState {
		if r != '-' {
			disks++
		}
	}
	return ok(map[string]any{
		"privacyStatus": privacy, "pirStatus": 1, "alarmSoundMode": d.AlarmSound, "battryStatus": d.Battery,
		"lockSignal": -1, "diskNum": disks, "diskState": d.DiskState, "cloudStatus": -1,
		"nvrDiskNum": -2, "nvrDiskState": "", "signal": d.Signal, "wakeUpStatus": wake,
	})
}

func (s *Sim) defenceSet(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	if d.Caps["support_defence"] != "1" {
		return fail("60020", "不支持该命令")
	}
	v, err := strconv.Atoi(c.form["isDefence"])
	valid := err == nil && (v == 0 || v == 1)
	if d.hub() {
		valid = err == nil && (v == 0 || v == 8 || v == 16)
	}
	if !valid {
		return fail("10001", "isDefence参数错误")
	}
	if bad := online(d, nil); bad != nil {
		return *bad
	}
	if d.Defence == v {
		return fail("60021", "当前已是该布撤防状态")
	}
	d.Defence = v
	return ok(nil)
}

func (s *Sim) privacyStatus(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	ch, bad := s.channelOf(d, c, "channelNo")
	if bad != nil {
		return *bad
	}
	if ch.Caps["support_privacy"] != "1" {
		return fail("60020", "不支持该命令")
	}
	return ok(map[string]any{"deviceSerial": d.Serial, "channelNo": ch.No, "enable": ch.Privacy})
}

func (s *Sim) privacySet(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	ch, bad := s.channelOf(d, c, "channelNo")
	if bad != nil {
		return *bad
	}
	if ch.Caps["support_privacy"] != "1" {
		return fail("60020", "不支持该命令")
	}
	return setFlag(d, ch, &ch.Privacy, c.form["enable"])
}

func setFlag(d *Device, ch *Channel, p *int, enable string) reply {
	if enable != "0" && enable != "1" {
		return fail("10001", "enable参数错误")
	}
	if bad := online(d, ch); bad != nil {
		return *bad
	}
	v := atoi(enable, 0)
	if *p == v {
		return fail("60022", "当前已是该开关状态")
	}
	*p = v
	return ok(nil)
}

// switchGet and switchSet serve switches whose value is -1 when unsupported.
func switchGet(field func(*Device, *Channel) *int) handler {
	return func(s *Sim, c *call) reply {
		d, bad := s.device(c)
		if bad != nil {
			return *bad
		}
		ch, bad := s.channelOf(d, c, "channelNo")
		if bad != nil {
			return *bad
		}
		p := field(d, ch)
		if *p < 0 {
			return fail("60020", "不支持该命令")
		}
		return ok(map[string]any{"enable": *p})
	}
}

func switchSet(field func(*Device, *Channel) *int) handler {
	return func(s *Sim, c *call) reply {
		d, bad := s.device(c)
		if bad != nil {
			return *bad
		}
		ch, bad := s.channelOf(d, c, "channelNo")
		if bad != nil {
			return *bad
		}
		p := field(d, ch)
		if *p < 0 {
			return fail("60020", "不支持该命令")
		}
		return setFlag(d, ch, p, c.form["enable"])
	}
}

// audioStatus answers the per-channel array camera/video/sound/status uses.
func (s *Sim) audioStatus(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	var items []map[string]any
	for _, ch := range d.Channels {
		if ch.Audio >= 0 {
			items = append(items, map[string]any{"channelNo": ch.No, "enable": strconv.Itoa(ch.Audio)})
		}
	}
	if len(items) == 0 {
		return fail("60020", "不支持该命令")
	}
	return ok(items)
}

func (s *Sim) alarmSoundSet(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	if d.Caps["support_alarm_voice"] != "1" {
		return fail("60020", "不支持该命令")
	}
	v, err := strconv.Atoi(c.form["type"])
	if err != nil || v < 0 || v > 2 {
		return fail("10001", "type参数错误")
	}
	if bad := online(d, nil); bad != nil {
		return *bad
	}
	d.AlarmSound = v
	return ok(nil)
}

// capture enforces one capture per CaptureSpacing per camera and answers a
// signed picture URL valid for 2 hours.
func (s *Sim) capture(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	ch, bad := s.channelOf(d, c, "channelNo")
	if bad != nil {
		return *bad
	}
	if ch.Caps["support_capture"] != "1" {
		return fail("60020", "不支持该命令")
	}
	if bad := online(d, ch); bad != nil {
		return *bad
	}
	if !ch.lastCapture.IsZero() && c.now.Sub(ch.lastCapture) < s.opts.CaptureSpacing {
		s.violate("capture of " + d.Serial + " within " + s.opts.CaptureSpacing.String())
		return fail("10028", "抓图接口调用次数超出限制")
	}
	ch.lastCapture = c.now
	s.picSeq++
	path := "/pic/" + d.Serial + "/" + strconv.Itoa(ch.No) + "/" + strconv.Itoa(s.picSeq) + ".jpg"
	exp := c.now.Add(2 * time.Hour).Unix()
	q := url.Values{"Expires": {strconv.FormatInt(exp, 10)}, "Signature": {s.sign(path, exp)}}
	return ok(map[string]any{"picUrl": s.area.url + path + "?" + q.Encode()})
}

func (s *Sim) versionInfo(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	s.advanceUpgrade(d, c.now)
	return ok(map[string]any{"currentVersion": d.Version, "latestVersion": d.Latest, "isNeedUpgrade": b01(d.Version != d.Latest), "isUpgrading": b01(d.upgrading)})
}

func (s *Sim) upgrade(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	if d.Caps["support_upgrade"] != "1" {
		return fail("60020", "不支持该命令")
	}
	if bad := online(d, nil); bad != nil {
		return *bad
	}
	s.advanceUpgrade(d, c.now)
	switch {
	case d.upgrading:
		return fail("60014", "设备正在升级")
	case d.Version == d.Latest:
		return fail("60013", "设备已是最新版本")
	}
	d.upgrading = true
	d.upgradeStart = c.now
	return ok(nil)
}

// advanceUpgrade finishes an upgrade after 11 steps (10 of progress, one of
// reboot).
func (s *Sim) advanceUpgrade(d *Device, now time.Time) (status, progress int) {
	if !d.upgrading {
		return 2, 100
	}
	steps := int(now.Sub(d.upgradeStart) / s.opts.UpgradeStep)
	switch {
	case steps < 10:
		return 0, max(1, steps*10)
	case steps < 11:
		return 1, 100
	}
	d.upgrading = false
	d.Version = d.Latest
	return 2, 100
}

func (s *Sim) upgradeStatus(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	st, p := s.advanceUpgrade(d, c.now)
	return ok(map[string]any{"status": st, "progress": p})
}

// detectorList answers in the documented extra "result" wrapper.
func (s *Sim) detectorList(c *call) reply {
	d, bad := s.device(c)
	if bad != nil {
		return *bad
	}
	if !d.hub() {
		return fail("60020", "不支持该命令")
	}
	items := []map[string]any{}
	for _, det := range d.Detectors {
		items = append(items, map[string]any{
			"detectorSerial": det.Serial, "detectorType": det.Type, "location": det.Location,
			"detectorState": 1, "zfStatus": 0, "uvStatus": 0, "iwcStatus": 0, "olStatus": 0,
			"atHomeEnable": 1, "outerEnable": 1, "sleepEnable": 1,
		})
	}
	r := ok(items)
	r.wrap = true
	return r
}
