package ezvizsim

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// trustList answers the devices users trusted to the app, one entry per
// channel; only the trust token may ask.
func (s *Sim) trustList(c *call) reply {
	if !c.trust {
		return fail("10013", "应用没有权限调用此接口")
	}
	start, size, bad := s.paging(c)
	if bad != nil {
		return *bad
	}
	var items []map[string]any
	for _, serial := range s.sortedSerials() {
		d := s.devices[serial]
		if !d.UserOwned || !d.Trusted {
			continue
		}
		chans := d.Channels
		if len(chans) == 0 {
			chans = []*Channel{{No: 1, Name: d.Name, Online: true}}
		}
		for _, ch := range chans {
			items = append(items, map[string]any{
				"deviceSerial": d.Serial, "deviceName": d.Name, "cameraName": ch.Name, "channelNo": ch.No,
				"customName": "", "deviceTrustId": d.TrustID, "status": b01(d.Online && ch.Online), "isAdd": 1,
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

func (s *Sim) trustCancel(c *call) reply {
	list := strings.Split(c.form["deviceSerials"], ",")
	if c.form["deviceSerials"] == "" || len(list) > 5 {
		return fail("10001", "deviceSerials参数错误")
	}
	var serials []string
	for _, p := range list {
		serial, _, _ := strings.Cut(p, ":")
		if d := s.devices[serial]; d != nil && d.UserOwned && d.Trusted {
			d.Trusted = false
			serials = append(serials, p)
		}
	}
	go s.sendCallback("device_cancel", serials)
	return ok(nil)
}

// serveAuthorize is EZVIZ's trust authorization page: the simulated user
// consents at once, EZVIZ calls the app's callBackAddress, and the browser
// is sent back to redirect_uri with a code and the state.
func (s *Sim) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.opts.AppKey || q.Get("response_type") != "code" {
		http.Error(w, "invalid client_id or response_type", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	var granted []string
	for _, serial := range s.sortedSerials() {
		d := s.devices[serial]
		if d.UserOwned && !d.Trusted {
			d.Trusted = true
			if d.TrustID == "" {
				d.TrustID = "T" + randHex(4)
			}
			granted = append(granted, d.Serial+":1")
		}
	}
	code := randHex(8)
	s.authCodes[code] = true
	s.mu.Unlock()
	if len(granted) > 0 {
		s.sendCallback("device_authorize", granted)
	}
	rq := redirect.Query()
	rq.Set("code", code)
	rq.Set("state", q.Get("state"))
	redirect.RawQuery = rq.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// sendCallback calls the app's callBackAddress; EZVIZ counts anything but
// exactly {"code":"200"} as a failure. It retries a few times while the
// bridge is not answering.
func (s *Sim) sendCallback(op string, serials []string) {
	s.mu.Lock()
	target := s.trustCallback
	s.mu.Unlock()
	if target == "" || len(serials) == 0 {
		return
	}
	q := url.Values{"opt_type": {op}, "deviceSerials": {strings.Join(serials, ",")}, "deviceTrustId": {"T1"}}
	res := CallbackResult{Op: op}
	for attempt := 0; attempt < 5; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target+"?"+q.Encode(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			cancel()
			res.Status = resp.StatusCode
			res.Body = strings.TrimSpace(string(b))
			res.Accepted = resp.StatusCode == http.StatusOK && res.Body == `{"code":"200"}`
			break
		}
		cancel()
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	s.mu.Lock()
	s.callbacks = append(s.callbacks, res)
	s.mu.Unlock()
}

// Untrust withdraws a user's trust of a device, as the user would in the app.
func (s *Sim) Untrust(serial string) {
	s.mu.Lock()
	d := s.devices[serial]
	changed := d != nil && d.Trusted
	if changed {
		d.Trusted = false
	}
	s.mu.Unlock()
	if changed {
		s.sendCallback("device_cancel", []string{serial + ":" + strconv.Itoa(1)})
	}
}
