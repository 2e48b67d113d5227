package bridge

// Metrics is what the bridge reports; package bridge/metrics implements it on
// a Prometheus registry. Kinds are fixed words (state, config, availability,
// light, event, image, result, response, bridge; command, request,
// ha_status, discovery).
type Metrics interface {
	MQTTConnected(up bool)
	MQTTPublished(kind string)
	MQTTPublishFailed(kind string)
	MQTTReceived(kind string)
	// PublishDropped counts messages dropped because a queue was full (or an
	// image was too large).
	PublishDropped(kind string)
	// CommandResult counts finished commands; code is "ok" or a result code.
	CommandResult(vendor, code string)
	CommandQueue(vendor, account string, length int)
	AccountStatus(vendor, account, state string)
	AccountDevices(vendor, account string, devices, online int)
}

type nopMetrics struct{}

func (nopMetrics) MQTTConnected(bool)                      {}
func (nopMetrics) MQTTPublished(string)                    {}
func (nopMetrics) MQTTPublishFailed(string)                {}
func (nopMetrics) MQTTReceived(string)                     {}
func (nopMetrics) PublishDropped(string)                   {}
func (nopMetrics) CommandResult(string, string)            {}
func (nopMetrics) CommandQueue(string, string, int)        {}
func (nopMetrics) AccountStatus(string, string, string)    {}
func (nopMetrics) AccountDevices(string, string, int, int) {}
