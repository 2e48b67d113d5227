package shelly

import (
	"crypto/ecdsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// trustClaims are the SCL-Trust JWT's claims: {"exp", "itg", "did"}.
type trustClaims struct {
	Exp float64         `json:"exp"`
	Nbf *float64        `json:"nbf"`
	Iat *float64        `json:"iat"`
	Itg string          `json:"itg"`
	Did json.RawMessage `json:"did"`
}

const (
	maxTrustToken = 4096
	// Leeways follow Allterco's java-verify sample: 30 s on exp, 5 s on nbf/iat.
	expLeeway = 30 * time.Second
	nbfLeeway = 5 * time.Second
)

// verifyTrust checks an SCL-Trust header: an ES384 JWT signed by key whose
// itg is our tag, whose did is the callback's device and which has not
// expired.
func verifyTrust(token string, key *ecdsa.PublicKey, tag, deviceID string, now time.Time) error {
	token = strings.TrimSpace(token)
	if t, ok := strings.CutPrefix(token, "Bearer "); ok {
		token = strings.TrimSpace(t)
	}
	if token == "" {
		return errors.New("no SCL-Trust header")
	}
	if len(token) > maxTrustToken {
		return errors.New("SCL-Trust token too long")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("SCL-Trust is not a JWT")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return errors.New("SCL-Trust header is not base64url")
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &hdr) != nil {
		return errors.New("SCL-Trust header is not JSON")
	}
	if hdr.Alg != "ES384" {
		return fmt.Errorf("SCL-Trust alg %q is not ES384", truncate([]byte(hdr.Alg), 16))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 96 {
		return errors.New("SCL-Trust signature is not a 96-byte ES384 signature")
	}
	sum := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
	if !ecdsa.Verify(key, sum[:], r, s) {
		return errors.New("SCL-Trust signature does not verify")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("SCL-Trust payload is not base64url")
	}
	var c trustClaims
	if err := json.Unmarshal(pb, &c); err != nil {
		return errors.New("SCL-Trust payload is not JSON claims")
	}
	if c.Exp <= 0 {
		return errors.New("SCL-Trust has no exp")
	}
	if now.After(unixTime(c.Exp).Add(expLeeway)) {
		return errors.New("SCL-Trust has expired")
	}
	if c.Nbf != nil && now.Add(nbfLeeway).Before(unixTime(*c.Nbf)) {
		return errors.New("SCL-Trust is not valid yet")
	}
	if c.Iat != nil && now.Add(nbfLeeway).Before(unixTime(*c.Iat)) {
		return errors.New("SCL-Trust was issued in the future")
	}
	if c.Itg != tag {
		return errors.New("SCL-Trust is for another integrator")
	}
	want := normID(deviceID, nil)
	did := normID(rawID(c.Did), func(id string) bool { return id == want })
	if did == "" || did != want {
		return errors.New("SCL-Trust is for another device")
	}
	return nil
}

func unixTime(sec float64) time.Time {
	if sec > 1e12 {
		sec = 1e12 // far future; keeps the conversion from overflowing
	}
	whole := int64(sec)
	return time.Unix(whole, int64((sec-float64(whole))*1e9))
}
