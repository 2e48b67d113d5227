// Package all registers every vendor adapter; import it for its side effect.
package all

import (
	_ "github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink"
	_ "github.com/cloud2mqtt/cloud2mqtt/vendors/expeed"
	_ "github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz"
	_ "github.com/cloud2mqtt/cloud2mqtt/vendors/shelly"
)
