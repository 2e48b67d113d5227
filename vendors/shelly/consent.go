package shelly

import (
	"io"
	"net/http"
	"time"
)

// serveConsent receives Shelly's per-device consent callback. It verifies
// the SCL-Trust JWT, persists the grant and answers 200 at once; the
// connection work happens afterwards in Run. Anything that does not verify
// gets 401 and changes nothing.
func (a *integrator) serveConsent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxConsentBody))
	if err != nil {
		a.reject(w, "body too large or unreadable", "")
		return
	}
	c, err := parseConsent(body)
	if err != nil {
		a.reject(w, err.Error(), "")
		return
	}
	if err := verifyTrust(r.Header.Get("SCL-Trust"), a.trustKey, a.cfg.Tag, c.DeviceID, a.env.Now()); err != nil {
		a.reject(w, err.Error(), c.DeviceID)
		return
	}
	var changed bool
	switch c.Action {
	case "add":
		changed, err = a.grants.put(c.DeviceID, grant{
			Host: c.Host, Access: c.AccessGroups, Names: c.Names, UserID: c.UserID,
			Code: c.DeviceCode, Type: c.DeviceType, Wire: c.Wire, Granted: a.env.Now().UTC().Truncate(time.Second),
		})
	case "remove":
		changed, err = a.grants.drop(c.DeviceID)
	}
	if err != nil {
		a.log.Error().Err(err).Str("device", c.DeviceID).Msg("cannot store the grant; Shelly will see the callback fail")
		http.Error(w, "cannot store grant", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
	a.log.Info().Str("device", c.DeviceID).Str("action", c.Action).Str("host", c.Host).Bool("changed", changed).Msg("consent callback accepted")
	if changed {
		a.wakeUp()
	}
}

func (a *integrator) reject(w http.ResponseWriter, reason, device string) {
	a.mu.Lock()
	ok, n := a.rejects.allow(a.env.Now())
	a.mu.Unlock()
	if ok {
		a.log.Warn().Str("reason", reason).Str("device", device).Int("suppressed", n).Msg("consent callback rejected")
	}
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}
