package ezvizsim

// The methods below change the cloud's state as a person or the device
// would, for tests and the demo. Unknown serials are ignored.

func (s *Sim) with(serial string, f func(d *Device)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.devices[serial]; d != nil {
		f(d)
	}
}

// SetOnline takes a device off line or back.
func (s *Sim) SetOnline(serial string, online bool) {
	s.with(serial, func(d *Device) { d.Online = online })
}

// SetChannelOnline takes one NVR channel off line or back.
func (s *Sim) SetChannelOnline(serial string, channel int, online bool) {
	s.with(serial, func(d *Device) {
		if ch := d.channel(channel); ch != nil {
			ch.Online = online
		}
	})
}

// SetAsleep puts a battery device to sleep: calls that reach it answer 20008.
func (s *Sim) SetAsleep(serial string, asleep bool) {
	s.with(serial, func(d *Device) { d.Asleep = asleep })
}

// SetDefence arms or disarms (as from the EZVIZ app).
func (s *Sim) SetDefence(serial string, v int) { s.with(serial, func(d *Device) { d.Defence = v }) }

// SetPrivacy covers or uncovers a channel's lens.
func (s *Sim) SetPrivacy(serial string, channel int, on bool) {
	s.with(serial, func(d *Device) {
		if ch := d.channel(channel); ch != nil {
			ch.Privacy = b01(on)
		}
	})
}

// SetBattery sets a battery level.
func (s *Sim) SetBattery(serial string, pct int) { s.with(serial, func(d *Device) { d.Battery = pct }) }

// SetLatest announces a new firmware version for a device.
func (s *Sim) SetLatest(serial, version string) {
	s.with(serial, func(d *Device) { d.Latest = version })
}

// AddDevice adds a device (e.g. a user-owned one for the trust flow).
func (s *Sim) AddDevice(d *Device) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addDevice(d)
}

// RemoveDevice deletes a device from the account.
func (s *Sim) RemoveDevice(serial string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.devices, serial)
	for i, v := range s.order {
		if v == serial {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// DeviceState is a copy of a device's settable state.
type DeviceState struct {
	Online, Asleep, Trusted bool
	Defence, AlarmSound     int
	PromptSound, Battery    int
	Version, Latest         string
	Privacy, IR, Audio, Pan map[int]int
	Upgrading, PTZActiveAny bool
}

// State returns a copy of a device's state; ok is false for unknown serials.
func (s *Sim) State(serial string) (DeviceState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[serial]
	if d == nil {
		return DeviceState{}, false
	}
	st := DeviceState{
		Online: d.Online, Asleep: d.Asleep, Trusted: d.Trusted, Defence: d.Defence, AlarmSound: d.AlarmSound,
		PromptSound: d.PromptSound, Battery: d.Battery, Version: d.Version, Latest: d.Latest, Upgrading: d.upgrading,
		Privacy: map[int]int{}, IR: map[int]int{}, Audio: map[int]int{}, Pan: map[int]int{},
	}
	for _, ch := range d.Channels {
		st.Privacy[ch.No] = ch.Privacy
		st.IR[ch.No] = ch.IR
		st.Audio[ch.No] = ch.Audio
		st.Pan[ch.No] = ch.Pan
		st.PTZActiveAny = st.PTZActiveAny || ch.ptzActive
	}
	return st, true
}
