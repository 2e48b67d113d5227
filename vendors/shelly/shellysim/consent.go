package shellysim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"time"
)

// PublicKeyPEM is the test key's public half: an adapter accepts the
// simulator's consent callbacks only when configured with it.
func (s *Sim) PublicKeyPEM() string {
	der, _ := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// SignTrust signs an SCL-Trust JWT (ES384) with the test key.
func (s *Sim) SignTrust(claims map[string]any) string {
	return SignES384(s.key, claims)
}

// TrustToken is a valid SCL-Trust for a device, expiring at exp.
func (s *Sim) TrustToken(deviceID string, exp time.Time) string {
	return s.SignTrust(map[string]any{"exp": exp.Unix(), "itg": s.opt.Tag, "did": deviceID})
}

// SignES384 makes an ES384 JWT with key (also for forging in tests).
func SignES384(key *ecdsa.PrivateKey, claims map[string]any) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"ES384","typ":"JWT"}`))
	p, _ := json.Marshal(claims)
	body := h + "." + enc.EncodeToString(p)
	sum := sha512.Sum384([]byte(body))
	r, sg, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		return ""
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	sg.FillBytes(sig[48:])
	return body + "." + enc.EncodeToString(sig)
}

// ConsentBody is the callback body Shelly sends for one device.
func (s *Sim) ConsentBody(id, action string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devs[s.resolveLocked(id)]
	if d == nil {
		return nil
	}
	b, _ := json.Marshal(map[string]any{
		"userId": d.UserID, "deviceId": d.ID, "deviceType": d.Type, "deviceCode": d.Code,
		"accessGroups": d.Access, "action": action, "host": d.Host, "name": d.Names,
	})
	return b
}

// SendConsent posts one consent callback (add or remove) to url, signed
// with the test key, and returns the HTTP status. A 200 makes the grant
// effective on the simulated cloud.
func (s *Sim) SendConsent(ctx context.Context, url, id, action string) (int, error) {
	body := s.ConsentBody(id, action)
	if body == nil {
		return 0, errors.New("no such device")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("SCL-Trust", s.TrustToken(id, time.Now().Add(2*time.Minute)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		s.mu.Lock()
		if d := s.devs[s.resolveLocked(id)]; d != nil {
			s.granted[d.ID] = action == "add"
		}
		s.mu.Unlock()
	}
	return resp.StatusCode, nil
}

// ConsentAll sends a callback for every device (or the ids given) in the
// background, retrying each until the bridge answers 200 (it may start after
// the simulator). It stops when the simulator closes.
func (s *Sim) ConsentAll(url, action string, ids ...string) {
	if len(ids) == 0 {
		for _, d := range s.Devices() {
			ids = append(ids, d.ID)
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		wait := 50 * time.Millisecond
		for _, id := range ids {
			for {
				status, _ := s.SendConsent(ctx, url, id, action)
				if status == http.StatusOK || ctx.Err() != nil {
					break
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				wait = min(wait*2, 5*time.Second)
			}
		}
	}()
}
