package expeedsim

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PushRecord is one push as delivered (or given up on).
type PushRecord struct {
	Time     time.Time
	MsgType  int
	DeviceID string
	Body     string
	// Status is the bridge's last HTTP answer (0: no answer).
	Status   int
	Err      string
	Attempts int
}

type pushMsg struct {
	msgType int
	device  string
	body    []byte
}

// pusher delivers pushes in order to the registered URL, retrying while the
// bridge is unreachable, not yet mounted (404) or failing (5xx).
type pusher struct {
	s      *Server
	client *http.Client

	mu      sync.Mutex
	url     string
	queue   []pushMsg
	records []PushRecord
	wake    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
}

const maxQueue = 10000

func newPusher(s *Server) *pusher {
	p := &pusher{s: s, client: &http.Client{Timeout: 5 * time.Second}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	p.wg.Add(1)
	go p.run()
	return p
}

func (p *pusher) close() {
	close(p.done)
	p.wg.Wait()
}

func (p *pusher) enqueue(m pushMsg) {
	p.mu.Lock()
	p.queue = append(p.queue, m)
	if len(p.queue) > maxQueue {
		p.queue = p.queue[1:]
	}
	p.mu.Unlock()
	p.kick()
}

func (p *pusher) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *pusher) run() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		target := p.url
		var m *pushMsg
		if target != "" && len(p.queue) > 0 {
			m = &p.queue[0]
		}
		p.mu.Unlock()
		if m == nil {
			select {
			case <-p.done:
				return
			case <-p.wake:
				continue
			}
		}
		if !p.deliver(target, *m) {
			return
		}
		p.mu.Lock()
		if len(p.queue) > 0 {
			p.queue = p.queue[1:]
		}
		p.mu.Unlock()
	}
}

// deliver posts one push until the bridge takes or refuses it; false when closing.
func (p *pusher) deliver(target string, m pushMsg) bool {
	rec := PushRecord{MsgType: m.msgType, DeviceID: m.device, Body: string(m.body)}
	wait := 20 * time.Millisecond
	for {
		rec.Attempts++
		rec.Time = p.s.opt.Now()
		ctx, cancel := context.WithTimeout(p.s.ctx, 5*time.Second)
		status, err := post(ctx, p.client, target, m.body)
		cancel()
		rec.Status, rec.Err = status, ""
		if err != nil {
			rec.Err = err.Error()
		}
		p.s.logf("expeedsim: push msg_type %d for %s → %d %v (attempt %d)", m.msgType, m.device, status, err, rec.Attempts)
		if err == nil && !retryable(status) {
			p.mu.Lock()
			p.records = append(p.records, rec)
			p.mu.Unlock()
			return true
		}
		select {
		case <-p.done:
			return false
		case <-time.After(wait):
		}
		if wait *= 2; wait > p.s.opt.PushRetryMax {
			wait = p.s.opt.PushRetryMax
		}
	}
}

func retryable(status int) bool {
	return status == http.StatusNotFound || status == http.StatusRequestTimeout ||
		status == http.StatusTooManyRequests || status >= 500
}

func post(ctx context.Context, c *http.Client, target string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, nil
}

// SetBridgeURL registers <base><PushPath>/<PushSecret> as the push URL.
func (s *Server) SetBridgeURL(base string) {
	s.SetPushURL(strings.TrimRight(base, "/") + s.opt.PushPath + "/" + s.opt.PushSecret)
}

// SetPushURL registers the URL pushes go to; queued pushes start flowing.
func (s *Server) SetPushURL(u string) {
	s.push.mu.Lock()
	s.push.url = u
	s.push.mu.Unlock()
	s.push.kick()
}

// PushURL is the registered URL.
func (s *Server) PushURL() string {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	return s.push.url
}

// Pushes returns the pushes delivered (or refused by the bridge) so far.
func (s *Server) Pushes() []PushRecord {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	return append([]PushRecord(nil), s.push.records...)
}

// PendingPushes is the number of pushes not yet delivered.
func (s *Server) PendingPushes() int {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	return len(s.push.queue)
}

func (s *Server) msgType(n int) any {
	if n == 3 || s.opt.NumericMsgType {
		return n
	}
	return strconv.Itoa(n)
}

func (s *Server) enqueue(msgType int, device string, body map[string]any) {
	b, _ := json.Marshal(body)
	s.push.enqueue(pushMsg{msgType: msgType, device: device, body: b})
}

func (s *Server) pushSetResult(id string, msgID any, result int) {
	s.enqueue(3, id, map[string]any{"msg_type": s.msgType(3), "message_id": msgID, "device_id": id, "set_result": s.num(result)})
}

// SetOnline takes a device on or off line and pushes msg_type 1.
func (s *Server) SetOnline(id string, online bool) {
	s.mu.Lock()
	d := s.devices[id]
	if d == nil {
		s.mu.Unlock()
		return
	}
	d.online = online
	st := 1 - s.opt.PushOnlineValue
	if online {
		st = s.opt.PushOnlineValue
	}
	body := map[string]any{"msg_type": s.msgType(1), "device_id": id, "device_key": d.Key, "device_sn": d.SN, "device_status": s.num(st)}
	s.mu.Unlock()
	s.enqueue(1, id, body)
}

// Online reports whether a device is on line.
func (s *Server) Online(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[id]
	return d != nil && d.online
}

// Value returns a datapoint's raw value.
func (s *Server) Value(id, dp string) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[id]
	if d == nil {
		return 0, false
	}
	v, ok := d.values[dp]
	return v, ok
}

// SetValue changes one datapoint as the device would report it and pushes msg_type 2.
func (s *Server) SetValue(id, dp string, v float64) bool {
	return s.SetValues(id, map[string]float64{dp: v})
}

// SetValues changes datapoints and pushes them as one msg_type 2 record.
func (s *Server) SetValues(id string, vals map[string]float64) bool {
	return s.PushSamples(id, []Sample{{At: s.opt.Now(), Values: vals}})
}

// Sample is one data upload record.
type Sample struct {
	At     time.Time
	Values map[string]float64
}

// PushSamples applies samples in time order and pushes them as one msg_type 2
// in the order given (to exercise the receiver's sorting).
func (s *Server) PushSamples(id string, samples []Sample) bool {
	s.mu.Lock()
	d := s.devices[id]
	if d == nil {
		s.mu.Unlock()
		return false
	}
	order := make([]int, len(samples))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return samples[order[a]].At.Before(samples[order[b]].At) })
	stamps := make([]time.Time, len(samples))
	for _, i := range order {
		vals := map[string]float64{}
		for k, v := range samples[i].Values {
			if p, ok := d.point(k); ok {
				v = p.round(v)
			}
			vals[k] = v
		}
		stamps[i] = d.set(samples[i].At, vals)
	}
	var data []map[string]any
	for i := range samples {
		rec := map[string]any{"timestamp": s.formatTime(stamps[i])}
		for k, v := range samples[i].Values {
			p, ok := d.point(k)
			if !ok {
				p = Point{Decimals: 3}
			}
			rec[k] = p.rawJSON(v)
		}
		data = append(data, rec)
	}
	body := map[string]any{"device_id": id, "device_key": d.Key, "msg_type": s.msgType(2), "data": data}
	s.mu.Unlock()
	s.enqueue(2, id, body)
	return true
}

// PushRaw queues an arbitrary push body (for malformed-input tests).
func (s *Server) PushRaw(msgType int, device string, body []byte) {
	s.push.enqueue(pushMsg{msgType: msgType, device: device, body: body})
}

// StartDrift changes drifting datapoints of on-line devices every interval
// and pushes them; the returned func stops it.
func (s *Server) StartDrift(every time.Duration) (stop func()) {
	quit := make(chan struct{})
	s.timers.Add(1)
	go func() {
		defer s.timers.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-s.stop:
				return
			case <-t.C:
			}
			s.mu.Lock()
			changes := map[string]map[string]float64{}
			for _, id := range s.order {
				if d := s.devices[id]; d.online {
					if c := d.drift(); len(c) > 0 {
						changes[id] = c
					}
				}
			}
			s.mu.Unlock()
			for _, id := range s.order {
				if c := changes[id]; c != nil {
					s.SetValues(id, c)
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit) }) }
}

// Signature signs a URL verification: MD5(SHA1(token+nonce+timestamp)) in
// the configured variant.
func (s *Server) Signature(nonce, timestamp string) string {
	sum := sha1.Sum([]byte(s.opt.CallbackToken + nonce + timestamp))
	var in []byte
	switch s.opt.SignatureVariant {
	case "upper":
		in = []byte(strings.ToUpper(hex.EncodeToString(sum[:])))
	case "raw":
		in = sum[:]
	default:
		in = []byte(hex.EncodeToString(sum[:]))
	}
	m := md5.Sum(in)
	return hex.EncodeToString(m[:])
}

// VerifyURL sends the URL verification GET the cloud sends when the
// integrator submits the configuration page, with a correct signature, and
// checks that the bridge echoes the nonce.
func (s *Server) VerifyURL(ctx context.Context) error {
	nonce := randHex(8)
	now := s.opt.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	if s.opt.TimestampMillis {
		ts = strconv.FormatInt(now.UnixMilli(), 10)
	}
	status, body, err := s.SendVerification(ctx, s.Signature(nonce, ts), nonce, ts)
	if err != nil {
		return err
	}
	if status != http.StatusOK || body != nonce {
		return fmt.Errorf("verification answered http %d with %d bytes, want the nonce", status, len(body))
	}
	return nil
}

// SendVerification sends a verification GET with the given parameters.
func (s *Server) SendVerification(ctx context.Context, signature, nonce, timestamp string) (status int, body string, err error) {
	q := url.Values{"signature": {signature}, "nonce": {nonce}, "timestamp": {timestamp}}
	target := s.PushURL()
	if target == "" {
		return 0, "", fmt.Errorf("no push URL registered")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target+"?"+q.Encode(), nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := s.push.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	s.logf("expeedsim: url verification → %d", resp.StatusCode)
	return resp.StatusCode, string(b), nil
}
