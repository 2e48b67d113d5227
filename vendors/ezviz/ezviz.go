// Package ezviz bridges EZVIZ (萤石) cameras, doorbells, NVRs and alarm hubs
// through the EZVIZ Open Platform (appKey + appSecret): form-encoded POSTs
// answered with {code,msg,data,page}, an accessToken valid 7 days bound to
// the region's areaDomain, and polling for state and alarm messages.
//
// Two authorization modes: self-owned (devices of the account that created
// the app) and device trust (托管), where users grant their devices to the
// app and the all-permission trust token ("da.") reaches them.
package ezviz

import (
	_ "embed"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

//go:embed sample.yaml
var sampleYAML string

const vendorName = "ezviz"

func init() {
	vendors.Register(vendors.Registration{Vendor: vendorName, Factory: New, Sample: sampleYAML})
}
