package expeed_test

import (
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed/expeedsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"

	_ "github.com/cloud2mqtt/cloud2mqtt/vendors/expeed"
)

func TestConformance(t *testing.T) {
	vendortest.Run(t, vendortest.Opt{Vendor: "expeed", New: func(t *testing.T) vendortest.Harness {
		return newHarness(t, expeedsim.Options{}, "")
	}})
}
