package ezvizsim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// StartDemo starts the simulator with its fixtures (repeated to about
// devices bridged devices when devices > 0; one set is 7: five devices and
// two NVR channels) and drifting values: motion alarms, doorbell rings,
// hub alarms and battery changes every few seconds. It returns one account
// entry in self-owned mode, so the demo runs without a person. bridgeURL is
// unused: self-owned mode needs no callbacks.
func StartDemo(devices int, bridgeURL string) (string, func(), error) {
	sets := 1
	if devices > 7 {
		sets = (devices + 6) / 7
	}
	var devs []*Device
	for i := 0; i < sets; i++ {
		suffix := ""
		if i > 0 {
			suffix = strconv.Itoa(i + 1)
		}
		devs = append(devs, Fixtures(suffix)...)
	}
	s, err := New(Options{AppKey: "demo" + randHex(14), AppSecret: randHex(16), Devices: devs, MaxPerSecond: 20})
	if err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.drift(done, 3*time.Second)
	}()
	config := fmt.Sprintf(`name: demo
app_key: %s
app_secret: %s
api_url: %s
mode: self
poll_interval: 5s
status_interval: 10s
settings_interval: 1m
snapshot_interval: 30s
motion_hold: 20s
rate_limit: 5
rate_burst: 5
`, s.AppKey(), s.AppSecret(), s.URL())
	stop := func() {
		close(done)
		<-stopped
		s.Close()
	}
	return config, stop, nil
}

// drift makes the fixtures live: every tick one thing happens somewhere.
func (s *Sim) drift(done <-chan struct{}, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		serials := s.sortedSerials()
		s.mu.Unlock()
		serial := serials[r.IntN(len(serials))]
		st, ok := s.State(serial)
		if !ok || !st.Online {
			continue
		}
		switch prefix := serial[:3]; {
		case prefix == IndoorPTZ[:3] || prefix == Outdoor[:3]:
			s.TriggerAlarm(serial, 1, AlarmMotion)
		case prefix == Doorbell[:3]:
			if r.IntN(3) == 0 {
				s.TriggerAlarm(serial, 1, AlarmDoorbell)
			} else {
				s.TriggerAlarm(serial, 1, AlarmPIR)
			}
			b := st.Battery - 1
			if b < 20 {
				b = 100
			}
			s.SetBattery(serial, b)
		case prefix == NVR[:3]:
			s.TriggerAlarm(serial, 1+r.IntN(2), AlarmNVRMove)
		case prefix == AlarmHub[:3]:
			s.TriggerAlarm(serial, 0, []int{AlarmContact, AlarmContact, AlarmSmoke, AlarmWater, AlarmGas}[r.IntN(5)])
		}
	}
}
