package expeed

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// maxPushBody bounds one push.
const maxPushBody = 1 << 20

// Routes mounts the push receiver: expeed's URL verification (GET) and its
// notifications (POST) arrive at one registered URL, <push_path>/<push_secret>.
// The seed signs only the verification, so the unguessable path and the
// optional network allow-list are what keep forged pushes out.
func (a *Adapter) Routes() []vendors.Route {
	return []vendors.Route{{Path: a.s.pushRoute, Handler: http.HandlerFunc(a.serveHTTP)}}
}

func (a *Adapter) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// Only the exact path: a mux mounting a prefix must not widen it.
	if subtle.ConstantTimeCompare([]byte(r.URL.Path), []byte(a.s.pushRoute)) != 1 {
		http.NotFound(w, r)
		return
	}
	src, ok := a.source(r)
	if !ok {
		if a.logs.ok("denied:"+src.String(), time.Now()) {
			a.log.Warn().Str("remote", src.String()).Str("method", r.Method).Msg("push from an address outside push_allowed_networks refused")
		}
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		a.verifyURL(w, r, src)
	case http.MethodPost:
		a.receive(w, r, src)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// source is the sender's address: the connection's peer, or the nearest
// untrusted hop of X-Forwarded-For when the peer is a trusted proxy.
func (a *Adapter) source(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	addr := ap.Addr().Unmap()
	if err != nil {
		if addr, err = netip.ParseAddr(r.RemoteAddr); err != nil {
			return netip.Addr{}, len(a.s.allowed) == 0
		}
		addr = addr.Unmap()
	}
	if in(addr, a.s.trustedProxies) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = h.Unmap()
			if !in(addr, a.s.trustedProxies) {
				break
			}
		}
	}
	return addr, len(a.s.allowed) == 0 || in(addr, a.s.allowed)
}

func in(addr netip.Addr, nets []netip.Prefix) bool {
	for _, p := range nets {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// verifyURL answers the GET expeed sends when the integrator submits the
// configuration page: check signature = MD5(SHA1(token+nonce+timestamp)) and
// echo the nonce.
func (a *Adapter) verifyURL(w http.ResponseWriter, r *http.Request, src netip.Addr) {
	q := r.URL.Query()
	sig, nonce, ts := q.Get("signature"), q.Get("nonce"), q.Get("timestamp")
	if sig == "" || nonce == "" || ts == "" {
		http.Error(w, "signature, nonce and timestamp are required", http.StatusBadRequest)
		return
	}
	if len(nonce) > 256 || len(ts) > 64 || len(sig) > 128 {
		http.Error(w, "parameters too long", http.StatusBadRequest)
		return
	}
	if reason := a.checkSignature(sig, nonce, ts); reason != "" {
		if a.logs.ok("verify:"+src.String()+reason, time.Now()) {
			a.log.Warn().Str("remote", src.String()).Str("reason", reason).Msg("push url verification refused")
		}
		http.Error(w, "verification failed", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, nonce)
	}
}

// checkSignature returns why a signed request fails, or "".
func (a *Adapter) checkSignature(sig, nonce, ts string) string {
	if a.s.maxSkew > 0 {
		at, ok := a.signedTime(ts)
		if !ok {
			return "timestamp unreadable"
		}
		if d := a.now().Sub(at); math.Abs(float64(d)) > float64(a.s.maxSkew) {
			return "timestamp outside push_max_skew"
		}
	}
	variant := matchSignature(a.s.PushToken.Reveal(), nonce, ts, sig, a.s.PushSignatureVariants)
	if variant == "" {
		return "wrong signature"
	}
	a.mu.Lock()
	first := !a.verified
	a.verified = true
	a.mu.Unlock()
	if first {
		a.log.Info().Str("variant", variant).Msg("push url verified")
		a.reportKeep()
	}
	return ""
}

// signedTime reads the verification timestamp: epoch seconds or
// milliseconds (auto: ≥ 10¹² is ms), or the cloud's own time format.
func (a *Adapter) signedTime(ts string) (time.Time, bool) {
	if n, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64); err == nil {
		switch a.s.PushTimestampUnit {
		case "s":
			return time.Unix(n, 0), true
		case "ms":
			return time.UnixMilli(n), true
		}
		return epoch(n), true
	}
	t, err := parseStamp(ts, a.s.zone)
	return t, err == nil
}

// matchSignature compares sig with every allowed variant in constant time
// and returns the variant that matched, or "".
func matchSignature(token, nonce, ts, sig string, variants []string) string {
	sum := sha1.Sum([]byte(token + nonce + ts))
	lower := hex.EncodeToString(sum[:])
	got := []byte(strings.ToLower(strings.TrimSpace(sig)))
	matched := ""
	for _, v := range variants {
		var in []byte
		switch v {
		case sigHexLower:
			in = []byte(lower)
		case sigHexUpper:
			in = []byte(strings.ToUpper(lower))
		case sigRaw:
			in = sum[:]
		default:
			continue
		}
		m := md5.Sum(in)
		want := []byte(hex.EncodeToString(m[:]))
		if subtle.ConstantTimeCompare(got, want) == 1 && matched == "" {
			matched = v
		}
	}
	return matched
}

var ack = []byte(`{"result_code":0,"result_message":"ok","result_msg":"ok"}`)

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func refuse(w http.ResponseWriter, status int, reason string) {
	b, _ := json.Marshal(map[string]any{"result_code": 5, "result_message": reason, "result_msg": reason})
	writeJSON(w, status, b)
}

// receive takes a msg_type 1/2/3 POST: decoded and checked whole before
// anything changes; a malformed one gets 400 with the reason.
func (a *Adapter) receive(w http.ResponseWriter, r *http.Request, src netip.Addr) {
	q := r.URL.Query()
	if q.Has("signature") {
		if reason := a.checkSignature(q.Get("signature"), q.Get("nonce"), q.Get("timestamp")); reason != "" {
			if a.logs.ok("signed:"+src.String()+reason, time.Now()) {
				a.log.Warn().Str("remote", src.String()).Str("reason", reason).Msg("signed push refused")
			}
			refuse(w, http.StatusForbidden, "verification failed")
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPushBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			refuse(w, http.StatusRequestEntityTooLarge, "body over 1 MiB")
			return
		}
		refuse(w, http.StatusBadRequest, "cannot read the body")
		return
	}
	p, err := decodePush(body, a.s.zone)
	if err != nil {
		if a.logs.ok("badpush:"+src.String(), time.Now()) {
			a.log.Warn().Str("remote", src.String()).Str("reason", err.Error()).Int("bytes", len(body)).Msg("malformed push refused")
		}
		refuse(w, http.StatusBadRequest, err.Error())
		return
	}
	if p.MsgType != msgOnline && p.MsgType != msgData && p.MsgType != msgSetting {
		if a.logs.ok("msgtype:"+strconv.FormatInt(p.MsgType, 10), time.Now()) {
			a.log.Info().Int64("msg_type", p.MsgType).Msg("push of an unknown msg_type acknowledged and ignored")
		}
		writeJSON(w, http.StatusOK, ack)
		return
	}
	if reason := a.checkDeviceKey(p); reason != "" {
		if a.logs.ok("devkey:"+p.DeviceID, time.Now()) {
			a.log.Warn().Str("remote", src.String()).Str("device", clip(p.DeviceID, 64)).Msg("push with a wrong device_key refused")
		}
		refuse(w, http.StatusForbidden, reason)
		return
	}
	a.log.Debug().Int64("msg_type", p.MsgType).Str("device", clip(p.DeviceID, 64)).Int("samples", len(p.Records)).Msg("push")
	for _, rec := range p.Records {
		if rec.StampErr != nil {
			a.log.Debug().Err(rec.StampErr).Str("device", p.DeviceID).Msg("push sample with an unreadable timestamp; applied as latest")
		}
	}
	a.applyPush(p)
	writeJSON(w, http.StatusOK, ack)
}

// checkDeviceKey refuses a push whose device_key differs from the configured one.
func (a *Adapter) checkDeviceKey(p push) string {
	if !a.s.checkKey || p.DeviceKey == "" || (p.MsgType != msgOnline && p.MsgType != msgData) {
		return ""
	}
	a.mu.Lock()
	d := a.devices[p.DeviceID]
	key := ""
	if d != nil {
		key = d.Key
	}
	a.mu.Unlock()
	if key == "" || subtle.ConstantTimeCompare([]byte(key), []byte(p.DeviceKey)) == 1 {
		return ""
	}
	return "device_key does not match the configured device"
}
