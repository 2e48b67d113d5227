package ezviz

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Trust (托管) routes, under /ezviz/<account>.
const (
	trustStartPath    = "/trust"
	trustReturnPath   = "/trust/return"
	trustCallbackPath = "/trust/callback"
	// stateTTL bounds how long an authorization page may stay open.
	stateTTL  = 30 * time.Minute
	maxStates = 32
)

// trustFlow keeps the state values of authorization pages in progress.
type trustFlow struct {
	mu     sync.Mutex
	states map[string]time.Time
}

func (t *trustFlow) init() { t.states = map[string]time.Time{} }

func (t *trustFlow) newState(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, exp := range t.states {
		if now.After(exp) || len(t.states) >= maxStates {
			delete(t.states, k)
		}
	}
	t.states[s] = now.Add(stateTTL)
	return s
}

// takeState consumes a state value; it is valid once.
func (t *trustFlow) takeState(s string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, exp := range t.states {
		if subtle.ConstantTimeCompare([]byte(k), []byte(s)) == 1 {
			delete(t.states, k)
			return now.Before(exp)
		}
	}
	return false
}

func (a *Adapter) routeBase() string {
	return "/" + vendorName + "/" + url.PathEscape(a.env.Account)
}

// Routes serves the trust flow on the bridge's HTTP server (trust mode only):
// a start page that redirects to EZVIZ's authorization page, the return
// page the browser lands on afterwards, and the device callback EZVIZ calls
// when devices are trusted or withdrawn.
func (a *Adapter) Routes() []vendors.Route {
	if a.cfg.Mode != modeTrust {
		return nil
	}
	base := a.routeBase()
	return []vendors.Route{
		{Path: base + trustStartPath, Handler: http.HandlerFunc(a.serveTrustStart)},
		{Path: base + trustReturnPath, Handler: http.HandlerFunc(a.serveTrustReturn)},
		{Path: base + trustCallbackPath, Handler: http.HandlerFunc(a.serveTrustCallback)},
	}
}

// authorizeURL is EZVIZ's trust authorization page for this app.
func (a *Adapter) authorizeURL(state string) string {
	q := url.Values{
		"client_id":     {a.cfg.AppKey},
		"response_type": {"code"},
		"state":         {state},
		"redirect_uri":  {a.env.PublicURL + a.routeBase() + trustReturnPath},
	}
	return strings.TrimRight(a.cfg.AuthURL, "/") + "/trust/device?" + q.Encode()
}

func (a *Adapter) serveTrustStart(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.authorizeURL(a.trust.newState(a.now())), http.StatusFound)
}

// serveTrustReturn is where EZVIZ sends the browser back. The bridge uses
// the all-permission trust token, so the authorization code itself is not
// needed; the page only checks the state and asks for a new device list.
func (a *Adapter) serveTrustReturn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || !a.trust.takeState(q.Get("state"), a.now()) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, page("Authorization not accepted", "This link is unknown or expired. Start again from "+a.routeBase()+trustStartPath+"."))
		return
	}
	if e := q.Get("error"); e != "" {
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, page("Authorization declined", "EZVIZ reported: "+e))
		return
	}
	a.log.Info().Msg("ezviz trust authorization returned")
	a.requestRelist()
	fmt.Fprint(w, page("EZVIZ devices authorized", "The bridge is reading the trusted devices; they appear in Home Assistant shortly. You can close this page."))
}

func page(title, body string) string {
	return "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(title) +
		"</title></head><body><h1>" + html.EscapeString(title) + "</h1><p>" + html.EscapeString(body) + "</p></body></html>\n"
}

// trustCallback is EZVIZ's device callback (help 818).
type trustCallback struct {
	Op      string // device_authorize or device_cancel
	Devices []trustRef
	TrustID string
}

type trustRef struct {
	Serial  string
	Channel int
}

const maxCallbackDevices = 256

// parseTrustCallback validates the callback query:
// opt_type=device_authorize|device_cancel&deviceSerials=SN:CH,SN:CH&deviceTrustId=ID.
func parseTrustCallback(rawQuery string) (trustCallback, error) {
	var cb trustCallback
	if len(rawQuery) > 16<<10 {
		return cb, errors.New("query too long")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return cb, errors.New("malformed query")
	}
	cb.Op = q.Get("opt_type")
	if cb.Op != "device_authorize" && cb.Op != "device_cancel" {
		return cb, errors.New("opt_type must be device_authorize or device_cancel")
	}
	cb.TrustID = q.Get("deviceTrustId")
	if len(cb.TrustID) > 64 {
		return cb, errors.New("deviceTrustId too long")
	}
	list := q.Get("deviceSerials")
	if list == "" {
		return cb, errors.New("deviceSerials missing")
	}
	for _, part := range strings.Split(list, ",") {
		if len(cb.Devices) >= maxCallbackDevices {
			return cb, errors.New("too many devices")
		}
		serial, chStr, hasCh := strings.Cut(strings.TrimSpace(part), ":")
		serial = strings.ToUpper(serial)
		if !validSerial(serial) {
			return cb, errors.New("invalid device serial")
		}
		ch := 1
		if hasCh {
			n, err := strconv.Atoi(chStr)
			if err != nil || n < 0 || n > 1024 {
				return cb, errors.New("invalid channel number")
			}
			ch = n
		}
		cb.Devices = append(cb.Devices, trustRef{serial, ch})
	}
	return cb, nil
}

// serveTrustCallback answers EZVIZ exactly {"code":"200"} (anything else is
// a failure to EZVIZ) and re-reads the trusted devices.
func (a *Adapter) serveTrustCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil && len(r.PostForm) > 0 {
			raw = r.PostForm.Encode()
		}
	} else if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		fmt.Fprint(w, `{"code":"405"}`)
		return
	}
	cb, err := parseTrustCallback(raw)
	if err != nil {
		a.log.Warn().Err(err).Msg("ezviz trust callback refused")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"code":"10001"}`)
		return
	}
	a.log.Info().Str("op", cb.Op).Int("devices", len(cb.Devices)).Msg("ezviz trust callback")
	a.requestRelist()
	fmt.Fprint(w, `{"code":"200"}`)
}

// requestRelist asks the poll loop for a new device list; requests coalesce.
func (a *Adapter) requestRelist() {
	select {
	case a.relist <- struct{}{}:
	default:
	}
}
