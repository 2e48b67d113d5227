package ezviz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// captureSlot serializes one camera's captures and remembers when the last
// one ended: EZVIZ allows one capture per 4 s per camera. Measuring from
// the end of the previous call keeps two requests at least 4 s apart at the
// cloud whatever the limiter's queueing.
type captureSlot struct {
	mu   sync.Mutex
	last time.Time
}

// errTooSoon says a capture was skipped because the camera's 4 s spacing
// had not passed.
var errTooSoon = errors.New("snapshot skipped: within 4 s of the previous capture")

// captureQuotaPause is the wait after 10028 (capture quota used up).
const captureQuotaPause = 10 * time.Minute

func (a *Adapter) slot(id string) *captureSlot {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.captures[id]
	if s == nil {
		s = &captureSlot{}
		a.captures[id] = s
	}
	return s
}

// snapshot captures one camera and publishes the JPEG.
func (a *Adapter) snapshot(ctx context.Context, d *device, p vendorkit.Priority) error {
	if !d.has(keyCamera) {
		return nil
	}
	a.captureMu.Lock()
	paused := a.now().Before(a.capturePause)
	a.captureMu.Unlock()
	if paused {
		return &vendors.RateLimitError{Err: errors.New("ezviz capture quota used up")}
	}
	s := a.slot(d.id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() && a.now().Sub(s.last) < captureSpacing {
		return errTooSoon
	}
	env, err := a.api.call(ctx, d.token(), "/api/lapp/device/capture", "capture", serialForm(d.serial, max(d.channel, 1)), p)
	s.last = a.now()
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Code == codeCaptureQuota {
			a.captureMu.Lock()
			a.capturePause = a.now().Add(captureQuotaPause)
			a.captureMu.Unlock()
			return &vendors.RateLimitError{RetryAfter: captureQuotaPause, Err: err}
		}
		return err
	}
	picURL, err := decodeCapture(env)
	if err != nil {
		return decodeErr("capture", err)
	}
	img, err := a.download(ctx, picURL)
	if err != nil {
		return err
	}
	a.mu.Lock()
	sink := a.sink
	a.mu.Unlock()
	if sink != nil {
		sink.Image(d.id, keyCamera, img)
	}
	return nil
}

// download fetches a capture's picUrl (a signed URL, valid 2 h), bounded in
// size; errors never carry its query (the signature).
func (a *Adapter) download(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &vendors.Error{Code: vendors.CodeCloud, Message: "ezviz capture: picUrl is not an http(s) URL"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, &vendors.Error{Code: vendors.CodeCloud, Message: "ezviz capture: bad picUrl"}
	}
	start := time.Now()
	resp, err := a.img.Do(req)
	if err != nil {
		err = vendorkit.ScrubError(err)
		a.metrics.APIRequest("capture_download", time.Since(start), err)
		return nil, &vendors.Error{Code: vendors.CodeUnavailable, Message: "ezviz capture download", Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("http %d", resp.StatusCode)
		a.metrics.APIRequest("capture_download", time.Since(start), err)
		return nil, &vendors.Error{Code: vendors.CodeCloud, Message: "ezviz capture download", Err: err}
	}
	limit := int64(a.cfg.MaxImageBytes)
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		err = vendorkit.ScrubError(err)
		a.metrics.APIRequest("capture_download", time.Since(start), err)
		return nil, &vendors.Error{Code: vendors.CodeUnavailable, Message: "ezviz capture download", Err: err}
	}
	a.metrics.APIRequest("capture_download", time.Since(start), nil)
	if int64(len(b)) > limit {
		return nil, &vendors.Error{Code: vendors.CodeTooLarge, Message: fmt.Sprintf("ezviz capture larger than max_image_bytes (%d)", limit)}
	}
	if !bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) {
		return nil, &vendors.Error{Code: vendors.CodeCloud, Message: "ezviz capture is not a JPEG"}
	}
	return b, nil
}

// snapshotAll captures every online camera (snapshot_interval, refresh of all).
func (a *Adapter) snapshotAll(ctx context.Context, p vendorkit.Priority) error {
	for _, d := range a.targets("") {
		if !d.has(keyCamera) || !a.isOnline(d) {
			continue
		}
		err := a.snapshot(ctx, d, p)
		switch {
		case err == nil, errors.Is(err, errTooSoon):
		case accountLevel(err):
			return err
		default:
			a.log.Debug().Err(err).Str("device", d.id).Msg("ezviz snapshot failed")
		}
	}
	return nil
}
