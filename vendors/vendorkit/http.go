package vendorkit

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// MaxBody bounds every cloud response an adapter reads.
const MaxBody = 4 << 20

// HTTPClient sends an account's cloud calls: every call waits on the account's
// limiter, is timed into metrics, and fails with an error that carries no
// query string (where clouds put tokens and keys).
type HTTPClient struct {
	Client  *http.Client
	Limiter *Limiter // nil: no limit
	Metrics vendors.Metrics
}

// Do sends req; op names the call in metrics ("thing_list", "set_switch").
// A 429 pauses the limiter for the cloud's Retry-After.
func (c *HTTPClient) Do(req *http.Request, op string, p Priority) (*http.Response, error) {
	m := c.Metrics
	if m == nil {
		m = vendors.NopMetrics{}
	}
	if c.Limiter != nil {
		start := time.Now()
		if err := c.Limiter.Wait(req.Context(), p); err != nil {
			return nil, err
		}
		m.RateLimitWait(time.Since(start))
	}
	hc := c.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		err = ScrubError(err)
		m.APIRequest(op, time.Since(start), err)
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests && c.Limiter != nil {
		c.Limiter.Pause(RetryAfter(resp, time.Second))
	}
	var statusErr error
	if resp.StatusCode >= 400 {
		statusErr = fmt.Errorf("http %d", resp.StatusCode)
	}
	m.APIRequest(op, time.Since(start), statusErr)
	return resp, nil
}

// ReadBody reads at most MaxBody bytes of resp's body and closes it.
func ReadBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, ScrubError(err)
	}
	if len(b) > MaxBody {
		return nil, fmt.Errorf("response body over %d bytes", MaxBody)
	}
	return b, nil
}

// StatusError turns the HTTP status classes every cloud shares into errors:
// 429 → *RateLimitError, 5xx → CLOUD_UNAVAILABLE (retryable), other 4xx →
// CLOUD_ERROR. 2xx and 3xx give nil.
func StatusError(resp *http.Response) error {
	switch s := resp.StatusCode; {
	case s < 400:
		return nil
	case s == http.StatusTooManyRequests:
		return &vendors.RateLimitError{RetryAfter: RetryAfter(resp, 0)}
	case s >= 500:
		return &vendors.Error{Code: vendors.CodeUnavailable, Message: fmt.Sprintf("cloud answered http %d", s)}
	default:
		return &vendors.Error{Code: vendors.CodeCloud, Message: fmt.Sprintf("cloud answered http %d", s)}
	}
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date); def when absent or invalid.
func RetryAfter(resp *http.Response, def time.Duration) time.Duration {
	h := resp.Header.Get("Retry-After")
	if h == "" {
		return def
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
		return 0
	}
	return def
}

// ScrubError removes the query string and user info from any URL inside err.
func ScrubError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: ScrubURL(ue.URL), Err: ue.Err}
	}
	return err
}

// ScrubURL returns raw without its query string, fragment and user info.
func ScrubURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid url>"
	}
	u.User = nil
	u.Fragment = ""
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}
