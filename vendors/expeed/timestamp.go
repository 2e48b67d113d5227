package expeed

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The cloud writes times as 2017-02-13T12-00-00-000 (hyphens for colons and
// for the decimal point) in China time. time.Parse cannot read the
// millisecond part (it takes "-000" as literal text), hence the regexp.
var stampPattern = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})[T ](\d{2})[-:](\d{2})[-:](\d{2})(?:[-.:,](\d{1,3}))?$`)

// parseStamp reads a cloud timestamp in zone. It also takes RFC 3339 and
// epoch seconds or milliseconds (≥ 10¹² is milliseconds).
func parseStamp(s string, zone *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if m := stampPattern.FindStringSubmatch(s); m != nil {
		n := make([]int, 7)
		for i := 1; i <= 6; i++ {
			n[i-1], _ = strconv.Atoi(m[i])
		}
		if m[7] != "" {
			ms, _ := strconv.Atoi(m[7])
			for i := len(m[7]); i < 3; i++ {
				ms *= 10
			}
			n[6] = ms
		}
		if n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 || n[3] > 23 || n[4] > 59 || n[5] > 60 {
			return time.Time{}, fmt.Errorf("timestamp %q: field out of range", clip(s, 40))
		}
		t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], n[6]*int(time.Millisecond), zone)
		if t.Day() != n[2] {
			return time.Time{}, fmt.Errorf("timestamp %q: no such day", clip(s, 40))
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return epoch(n), nil
	}
	return time.Time{}, fmt.Errorf("timestamp %q: not yyyy-MM-ddTHH-mm-ss-SSS, RFC 3339 or epoch", clip(s, 40))
}

// epoch reads seconds or, from 10¹² on, milliseconds.
func epoch(n int64) time.Time {
	if n >= 1e12 {
		return time.UnixMilli(n)
	}
	return time.Unix(n, 0)
}

// formatStamp writes t the cloud's way in zone.
func formatStamp(t time.Time, zone *time.Location) string {
	t = t.In(zone)
	return fmt.Sprintf("%04d-%02d-%02dT%02d-%02d-%02d-%03d", t.Year(), t.Month(), t.Day(),
		t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/int(time.Millisecond))
}

// loadZone resolves the timezone setting: an IANA name or a fixed offset
// ("+08:00", "UTC+8"). China has had no daylight saving time since 1991, so
// without a tz database its names fall back to a fixed UTC+8.
func loadZone(name string) (*time.Location, error) {
	if loc, ok := fixedZone(name); ok {
		return loc, nil
	}
	loc, err := time.LoadLocation(name)
	if err == nil {
		return loc, nil
	}
	switch name {
	case "Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Urumqi", "PRC", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Macau":
		return time.FixedZone(name, 8*3600), nil
	}
	return nil, fmt.Errorf("timezone %q: %v", name, err)
}

var offsetPattern = regexp.MustCompile(`^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$`)

func fixedZone(name string) (*time.Location, bool) {
	m := offsetPattern.FindStringSubmatch(strings.TrimSpace(name))
	if m == nil {
		return nil, false
	}
	h, _ := strconv.Atoi(m[2])
	mins, _ := strconv.Atoi(m[3])
	if h > 14 || mins > 59 {
		return nil, false
	}
	off := h*3600 + mins*60
	if m[1] == "-" {
		off = -off
	}
	return time.FixedZone(name, off), true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
