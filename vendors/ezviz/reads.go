package ezviz

import (
	"context"
	"net/url"
	"strconv"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

func serialForm(serial string, ch int) url.Values {
	f := url.Values{"deviceSerial": {serial}}
	if ch > 0 {
		f.Set("channelNo", strconv.Itoa(ch))
	}
	return f
}

// decodeErr marks a reply the bridge could not read.
func decodeErr(op string, err error) error {
	return &vendors.Error{Code: vendors.CodeCloud, Message: "ezviz " + op, Err: err}
}

func (a *Adapter) capacity(ctx context.Context, kind tokenKind, serial string, ch int, p vendorkit.Priority) (map[string]string, error) {
	env, err := a.api.call(ctx, kind, "/api/lapp/device/capacity", "capacity", serialForm(serial, ch), p)
	if err != nil {
		return nil, err
	}
	caps, err := decodeCapacity(env)
	if err != nil {
		return nil, decodeErr("capacity", err)
	}
	return caps, nil
}

func (a *Adapter) deviceInfo(ctx context.Context, kind tokenKind, serial string, p vendorkit.Priority) (deviceItem, error) {
	env, err := a.api.call(ctx, kind, "/api/lapp/device/info", "device_info", serialForm(serial, 0), p)
	if err != nil {
		return deviceItem{}, err
	}
	info, err := decodeDeviceInfo(env)
	if err != nil {
		return info, decodeErr("device_info", err)
	}
	return info, nil
}

func (a *Adapter) detectors(ctx context.Context, kind tokenKind, serial string, p vendorkit.Priority) ([]detectorItem, error) {
	env, err := a.api.call(ctx, kind, "/api/lapp/detector/list", "detector_list", serialForm(serial, 0), p)
	if err != nil {
		return nil, err
	}
	dets, err := decodeDetectors(env)
	if err != nil {
		return nil, decodeErr("detector_list", err)
	}
	return dets, nil
}

func (a *Adapter) cameraList(ctx context.Context, l *listed, p vendorkit.Priority) ([]channelItem, error) {
	kind := kindApp
	if l.trusted {
		kind = kindTrust
	}
	env, err := a.api.call(ctx, kind, "/api/lapp/device/camera/list", "camera_list", serialForm(l.item.Serial, 0), p)
	if err != nil {
		return nil, err
	}
	chans, err := decodeChannels(env)
	if err != nil {
		return nil, decodeErr("camera_list", err)
	}
	return chans, nil
}

func (a *Adapter) readStatus(ctx context.Context, kind tokenKind, serial string, ch int, p vendorkit.Priority) (statusData, error) {
	f := url.Values{"deviceSerial": {serial}, "channel": {strconv.Itoa(max(ch, 1))}}
	env, err := a.api.call(ctx, kind, "/api/lapp/device/status/get", "status_get", f, p)
	if err != nil {
		return statusData{}, err
	}
	st, err := decodeStatus(env)
	if err != nil {
		return st, decodeErr("status_get", err)
	}
	return st, nil
}

func (a *Adapter) readSetting(ctx context.Context, kind tokenKind, serial string, ch int, s settingSpec, p vendorkit.Priority) (bool, error) {
	op := s.key + "_status"
	env, err := a.api.call(ctx, kind, s.statusPath, op, serialForm(serial, max(ch, 1)), p)
	if err != nil {
		return false, err
	}
	v, err := decodeEnable(env, max(ch, 1))
	if err != nil {
		return false, decodeErr(op, err)
	}
	return v, nil
}

func (a *Adapter) readVersion(ctx context.Context, kind tokenKind, serial string, p vendorkit.Priority) (versionData, error) {
	env, err := a.api.call(ctx, kind, "/api/lapp/device/version/info", "version_info", serialForm(serial, 0), p)
	if err != nil {
		return versionData{}, err
	}
	v, err := decodeVersion(env)
	if err != nil {
		return v, decodeErr("version_info", err)
	}
	return v, nil
}
