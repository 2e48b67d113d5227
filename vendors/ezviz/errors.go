package ezviz

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// apiError is an EZVIZ business code other than 200.
type apiError struct {
	Op   string
	Code string
	Msg  string
}

func (e *apiError) Error() string {
	msg := e.Msg
	if utf8.RuneCountInString(msg) > 80 {
		msg = string([]rune(msg)[:80]) + "…"
	}
	if msg == "" {
		return fmt.Sprintf("ezviz %s: code %s", e.Op, e.Code)
	}
	return fmt.Sprintf("ezviz %s: code %s (%s)", e.Op, e.Code, msg)
}

// EZVIZ codes the adapter reacts to (protocol reference §6).
const (
	codeOK             = "200"
	codeTokenExpired   = "10002"
	codeCallCount      = "10007"
	codeCaptureQuota   = "10028"
	codeFrequency      = "10029"
	codePersonalFreq   = "110029"
	codeAlreadyLatest  = "60013"
	codeUpgrading      = "60014"
	codeAlreadyArmed   = "60021"
	codeAlreadySwitch  = "60022"
	codeNotSupported   = "60020"
	codeEncryptAlready = "60016"
)

// badCredentialCodes mean the app key or secret is refused: retrying cannot help.
var badCredentialCodes = map[string]string{
	"10004": "user does not exist",
	"10005": "app key is frozen",
	"10017": "app key does not exist",
	"10018": "token and app key do not match",
	"10030": "app key and app secret do not match",
}

// isRateCode reports the account-wide quota and frequency codes.
func isRateCode(code string) bool {
	return code == codeFrequency || code == codeCallCount || code == codePersonalFreq
}

// coded wraps an apiError in the result code the bridge publishes.
func coded(e *apiError) error {
	code := vendors.CodeCloud
	switch e.Code {
	case "2003", "20007":
		code = vendors.CodeOffline
	case "2009", "20008", "60015":
		code = vendors.CodeNoResponse
	case codeNotSupported, "60000", "10013":
		code = vendors.CodeNotSupported
	case "10001":
		code = vendors.CodeInvalidValue
	case "60002", "60003", "60004", "60005":
		code = vendors.CodeOutOfRange
	case "60001", "10031", "20018", "10051", "10015", "60058", "10006":
		code = vendors.CodeForbidden
	case "20002", "2000", "20032", "20001":
		code = vendors.CodeUnknownDevice
	case "20006", "49999", "50000":
		code = vendors.CodeUnavailable
	case codeTokenExpired:
		code = vendors.CodeAuth
	}
	if _, ok := badCredentialCodes[e.Code]; ok {
		code = vendors.CodeAuth
	}
	return &vendors.Error{Code: code, Err: e}
}

// accountLevel reports errors that concern the whole account (transport,
// cloud outage, rate limit, credentials) rather than one device; a poll
// cycle stops on them.
func accountLevel(err error) bool {
	if err == nil {
		return false
	}
	var rl *vendors.RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return vendors.Code(err) == vendors.CodeAuth
	}
	return true
}
