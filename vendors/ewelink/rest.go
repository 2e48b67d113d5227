package ewelink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

type authKind int

const (
	authNone authKind = iota
	authSign
	authBearer
)

// request is one REST call.
type request struct {
	// op names the endpoint ("GET /v2/device/thing"): the metrics op and the
	// key of the per-endpoint spacing.
	op     string
	method string
	url    string
	query  url.Values
	// body is marshalled once; those exact bytes are signed and sent.
	body    any
	auth    authKind
	appid   bool
	token   string
	prio    vendorkit.Priority
	counted bool
	// raw returns the whole body (replies without the envelope's data).
	raw bool
}

// envelope is every REST reply: {"error":0,"msg":"","data":{}} (§3.2).
type envelope struct {
	Error flexInt         `json:"error"`
	Msg   string          `json:"msg"`
	Data  json.RawMessage `json:"data"`
}

// cloudError is a non-zero "error" in a reply envelope or a WebSocket ack.
type cloudError struct {
	op   string
	code int
	msg  string
	data json.RawMessage
}

func (e *cloudError) Error() string {
	msg := e.msg
	if len(msg) > 80 {
		msg = msg[:80]
	}
	if msg != "" {
		return fmt.Sprintf("%s: cloud error %d (%s)", e.op, e.code, msg)
	}
	return fmt.Sprintf("%s: cloud error %d", e.op, e.code)
}

// cloudCode returns the cloud's error code inside err (0 if none).
func cloudCode(err error) int {
	var ce *cloudError
	if errors.As(err, &ce) {
		return ce.code
	}
	return 0
}

// classify gives a cloud error code its result code (reference §7).
func classify(ce *cloudError) error {
	code, msg := vendors.CodeCloud, ""
	switch ce.code {
	case 400:
		code, msg = vendors.CodeInvalidValue, "the cloud refused the parameters"
	case 401:
		code, msg = vendors.CodeAuth, "access token invalid (the account logged in elsewhere)"
	case 402:
		code, msg = vendors.CodeAuth, "access token expired"
	case 403:
		msg = "endpoint not found"
	case 405:
		code, msg = vendors.CodeUnknownDevice, "resource not found"
	case 406:
		code, msg = vendors.CodeForbidden, "operation refused (no permission or bad signature)"
	case 407:
		code, msg = vendors.CodeForbidden, "the APPID has no permission for this API"
	case 412:
		return &vendors.RateLimitError{Err: ce}
	case 500:
		code, msg = vendors.CodeUnavailable, "cloud server error"
	case 503, 30022:
		code, msg = vendors.CodeOffline, "device offline"
	case 504:
		code, msg = vendors.CodeOffline, "device did not answer (offline)"
	case 4002:
		code, msg = vendors.CodeNoResponse, "device control failed"
	case 10001:
		code, msg = vendors.CodeAuth, "wrong password"
	case 10003:
		code, msg = vendors.CodeAuth, "user does not exist"
	}
	return &vendors.Error{Code: code, Message: msg, Err: ce}
}

// send makes one REST call within the budget and returns the envelope's data.
func (a *Adapter) send(ctx context.Context, r request) (json.RawMessage, error) {
	release, err := a.budget.acquire(ctx, r.op, r.prio, r.counted)
	if err != nil {
		return nil, err
	}
	defer release()
	var body []byte
	if r.body != nil {
		if body, err = json.Marshal(r.body); err != nil {
			return nil, err
		}
	}
	target := r.url
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, bytes.NewReader(body))
	if err != nil {
		return nil, vendorkit.ScrubError(err)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if r.appid {
		req.Header.Set("X-CK-Appid", a.cfg.AppID)
	}
	req.Header.Set("X-CK-Nonce", nonce(8))
	switch r.auth {
	case authSign:
		msg := body
		if r.method == http.MethodGet {
			msg = []byte(queryMessage(r.query))
		}
		req.Header.Set("Authorization", "Sign "+sign(a.cfg.AppSecret.Reveal(), msg))
	case authBearer:
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	start := time.Now()
	resp, err := a.http.Do(req)
	if err != nil {
		err = vendorkit.ScrubError(err)
		a.metrics.APIRequest(r.op, time.Since(start), err)
		return nil, &vendors.Error{Code: vendors.CodeUnavailable, Message: r.op, Err: err}
	}
	raw, rerr := vendorkit.ReadBody(resp)
	took := time.Since(start)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := vendorkit.RetryAfter(resp, time.Second)
		a.budget.pause(wait)
		err = &vendors.RateLimitError{RetryAfter: wait, Err: fmt.Errorf("%s: http 429", r.op)}
	case resp.StatusCode == http.StatusForbidden && a.budget.quota > 0:
		err = &vendors.Error{Code: vendors.CodeForbidden, Message: r.op + ": http 403 (the free APPID's monthly quota may be used up)"}
	case resp.StatusCode >= 300:
		err = vendorkit.StatusError(resp)
		if err == nil {
			err = &vendors.Error{Code: vendors.CodeCloud, Message: fmt.Sprintf("%s: http %d", r.op, resp.StatusCode)}
		}
		err = fmt.Errorf("%s: %w", r.op, err)
	case rerr != nil:
		err = &vendors.Error{Code: vendors.CodeUnavailable, Message: r.op, Err: rerr}
	}
	if err != nil {
		a.metrics.APIRequest(r.op, took, err)
		return nil, err
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		err = &vendors.Error{Code: vendors.CodeCloud, Message: r.op + ": reply is not the cloud's JSON envelope", Err: err}
		a.metrics.APIRequest(r.op, took, err)
		return nil, err
	}
	if env.Error != 0 {
		ce := &cloudError{op: r.op, code: int(env.Error), msg: env.Msg, data: env.Data}
		if ce.code == 412 {
			a.budget.exhausted()
		}
		err := classify(ce)
		a.metrics.APIRequest(r.op, took, err)
		return nil, err
	}
	a.metrics.APIRequest(r.op, took, nil)
	if r.raw {
		return raw, nil
	}
	return env.Data, nil
}

// call makes a Bearer call. On 401/402 it renews the token once (shared with
// every other caller that failed with the same token) and retries; if the
// retry is refused too, the account needs re-authentication (§4.4).
func (a *Adapter) call(ctx context.Context, r request, out any) error {
	for attempt := 0; ; attempt++ {
		tok, gen, err := a.bearer()
		if err != nil {
			return err
		}
		r.auth, r.token = authBearer, tok.AT
		r.url = a.cfg.apiBase(tok.Region) + r.path()
		data, err := a.send(ctx, r)
		if code := cloudCode(err); code == 401 || code == 402 {
			// The first refusal refreshes; a refusal of the refreshed
			// tokens makes renew mark the account for re-authentication.
			if rerr := a.renew(ctx, gen, code); rerr != nil {
				return rerr
			}
			if attempt == 0 {
				continue
			}
		}
		if err != nil {
			return err
		}
		a.accepted(gen)
		if out == nil || len(data) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return &vendors.Error{Code: vendors.CodeCloud, Message: r.op + ": unexpected reply", Err: err}
		}
		return nil
	}
}

// path is the URL path of the op ("GET /v2/family" → "/v2/family").
func (r request) path() string {
	if i := strings.IndexByte(r.op, ' '); i >= 0 {
		return r.op[i+1:]
	}
	return r.op
}
