package expeed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// roundTrip sends req through the account's limiter and returns the body of
// a 2xx answer. Errors carry no query string (the secret_key travels there).
func (a *Adapter) roundTrip(req *http.Request, op string, p vendorkit.Priority) ([]byte, error) {
	resp, err := a.http.Do(req, op, p)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &vendors.Error{Code: vendors.CodeUnavailable, Message: "expeed " + op, Err: vendorkit.ScrubError(err)}
	}
	if err := vendorkit.StatusError(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	body, err := vendorkit.ReadBody(resp)
	if err != nil {
		return nil, &vendors.Error{Code: vendors.CodeUnavailable, Message: "expeed " + op, Err: err}
	}
	return body, nil
}

// apiCall is one device call.
type apiCall struct {
	op     string // metrics name and error context: device_status, currentDatapoints, datapoints, device_setting
	method string
	path   string // under base_url, ids escaped
	query  url.Values
	body   []byte
	key    string // device_key
	prio   vendorkit.Priority
}

// call sends c with the current token; on result_code 1 it gets one new
// token and tries once more. The answer body is returned for the caller's
// decoder; a result_code other than 0 and 1 is left for it to read.
func (a *Adapter) call(ctx context.Context, c apiCall) ([]byte, error) {
	tok, err := a.tokens.get(ctx, c.prio)
	if err != nil {
		return nil, err
	}
	body, err := a.send(ctx, c, tok)
	if err != nil || !tokenExpired(body) {
		return body, err
	}
	a.log.Info().Str("op", c.op).Msg("token refused (result_code 1); getting a new one")
	if tok, err = a.tokens.rejected(ctx, tok, c.prio); err != nil {
		return nil, err
	}
	body, err = a.send(ctx, c, tok)
	if err == nil && tokenExpired(body) {
		return nil, vendors.Errorf(vendors.CodeAuth, "expeed %s: a new token was refused too (result_code 1); check auth_style", c.op)
	}
	return body, err
}

func tokenExpired(body []byte) bool {
	var ce *cloudError
	return errors.As(decodeEnvelope(body, nil), &ce) && ce.Code == 1
}

func (a *Adapter) send(ctx context.Context, c apiCall, tok string) ([]byte, error) {
	q := url.Values{}
	for k, v := range c.query {
		q[k] = v
	}
	if a.s.AuthStyle == "query" {
		q.Set("access_token", tok)
		q.Set("device_key", c.key)
	}
	u := a.s.BaseURL + c.path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if c.body != nil {
		rd = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("expeed %s: cannot build the request", c.op)
	}
	switch a.s.AuthStyle {
	case "headers":
		// Assigned directly so the names stay lowercase on the wire
		// (Header.Set would send Access_token).
		req.Header["access_token"] = []string{tok}
		req.Header["device_key"] = []string{c.key}
	case "single_header":
		req.Header["access_token"] = []string{tok + "; device_key=" + c.key}
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return a.roundTrip(req, c.op, c.prio)
}

// classify maps a decoder error of op to a coded error. Code 3 means a
// different thing per endpoint.
func classify(op string, err error) error {
	var ce *cloudError
	if !errors.As(err, &ce) {
		var ve *vendors.Error
		var rl *vendors.RateLimitError
		if errors.As(err, &ve) || errors.As(err, &rl) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return &vendors.Error{Code: vendors.CodeCloud, Message: "expeed " + op, Err: err}
	}
	code := vendors.CodeCloud
	switch ce.Code {
	case 1:
		code = vendors.CodeAuth
	case 2:
		code = vendors.CodeUnknownDevice
	case 3:
		switch op {
		case "device_setting":
			code = vendors.CodeOffline
		case "datapoints":
			code = vendors.CodeInvalidValue
		default:
			code = vendors.CodeForbidden // device_key unknown to the cloud
		}
	case 4, 5:
		code = vendors.CodeInvalidValue
	}
	return &vendors.Error{Code: code, Message: "expeed " + op, Err: ce}
}
