package vendorkit

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRedactorReplacesRawAndEscapedForms(t *testing.T) {
	var r Redactor
	secret := "s3cr/t+key=="
	r.Add(secret, "ab") // too short to redact
	var out bytes.Buffer
	w := r.Writer(&out)
	line := "token=" + secret + " q=" + url.QueryEscape(secret) + " p=" + url.PathEscape(secret) + " ab\n"
	n, err := w.Write([]byte(line))
	if err != nil || n != len(line) {
		t.Fatalf("write: %d %v", n, err)
	}
	if strings.Contains(out.String(), "s3cr") {
		t.Errorf("secret left in %q", out.String())
	}
	if !strings.HasSuffix(out.String(), " ab\n") {
		t.Errorf("short strings must not be redacted: %q", out.String())
	}
	if got := r.String("x" + secret); got != "x***" {
		t.Errorf("String: %q", got)
	}
}

func TestScrubErrorDropsQuery(t *testing.T) {
	err := &url.Error{Op: "Get", URL: "https://user:pw@api.example/v1?auth_key=SECRET&x=1", Err: errors.New("timeout")}
	got := ScrubError(err).Error()
	if strings.Contains(got, "SECRET") || strings.Contains(got, "pw") {
		t.Errorf("scrubbed error still has secrets: %s", got)
	}
	if !strings.Contains(got, "api.example/v1") {
		t.Errorf("scrubbed error lost the host and path: %s", got)
	}
}
