package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// rawSub is a minimal MQTT 3.1.1 subscriber (QoS 0, no keep-alive) that
// hands every PUBLISH to its handler on the reading goroutine. The bench
// uses it instead of a library client so the counting side costs as little
// as possible and is the same for the bridge and the baseline.
type rawSub struct {
	conn net.Conn
	done chan struct{}
	err  error
}

// mqttAddr returns host:port and credentials of a tcp:// or mqtt:// URL.
func mqttAddr(raw string) (addr, user, pass string, err error) {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "", "", "", fmt.Errorf("mqtt url: %w", err)
	}
	if u.Scheme != "tcp" && u.Scheme != "mqtt" {
		return "", "", "", fmt.Errorf("mqtt url %q: the bench speaks plain tcp:// only", u.Redacted())
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "1883")
	}
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	return u.Host, user, pass, nil
}

func appendMQTTString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func appendRemaining(b []byte, n int) []byte {
	for {
		c := byte(n % 128)
		n /= 128
		if n > 0 {
			c |= 0x80
		}
		b = append(b, c)
		if n == 0 {
			return b
		}
	}
}

func readRemaining(r *bufio.Reader) (int, error) {
	n, mul := 0, 1
	for i := 0; i < 4; i++ {
		c, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		n += int(c&0x7f) * mul
		if c&0x80 == 0 {
			return n, nil
		}
		mul *= 128
	}
	return 0, errors.New("mqtt: malformed remaining length")
}

// dialSub connects, subscribes to filters at QoS 0 and calls onMsg for every
// message until Close.
func dialSub(url, clientID string, filters []string, onMsg func(topic string, payload []byte, at time.Time)) (*rawSub, error) {
	addr, user, pass, err := mqttAddr(url)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*rawSub, error) { conn.Close(); return nil, err }
	flags := byte(0x02) // clean session
	body := appendMQTTString(nil, "MQTT")
	if user != "" {
		flags |= 0x80
	}
	if pass != "" {
		flags |= 0x40
	}
	body = append(body, 4, flags, 0, 0)
	body = appendMQTTString(body, clientID)
	if user != "" {
		body = appendMQTTString(body, user)
	}
	if pass != "" {
		body = appendMQTTString(body, pass)
	}
	pkt := appendRemaining([]byte{0x10}, len(body))
	if _, err := conn.Write(append(pkt, body...)); err != nil {
		return fail(err)
	}
	r := bufio.NewReaderSize(conn, 256<<10)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var ack [4]byte
	if _, err := io.ReadFull(r, ack[:]); err != nil {
		return fail(fmt.Errorf("mqtt connack: %w", err))
	}
	if ack[0] != 0x20 || ack[3] != 0 {
		return fail(fmt.Errorf("mqtt: connection refused (code %d)", ack[3]))
	}
	body = []byte{0, 1}
	for _, f := range filters {
		body = append(appendMQTTString(body, f), 0)
	}
	pkt = appendRemaining([]byte{0x82}, len(body))
	if _, err := conn.Write(append(pkt, body...)); err != nil {
		return fail(err)
	}
	h, err := r.ReadByte()
	if err != nil || h != 0x90 {
		return fail(fmt.Errorf("mqtt suback: %v (header %#x)", err, h))
	}
	n, err := readRemaining(r)
	if err != nil {
		return fail(err)
	}
	codes := make([]byte, n)
	if _, err := io.ReadFull(r, codes); err != nil {
		return fail(err)
	}
	for _, c := range codes[2:] {
		if c >= 0x80 {
			return fail(errors.New("mqtt: broker refused the subscription"))
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	s := &rawSub{conn: conn, done: make(chan struct{})}
	go s.read(r, onMsg)
	return s, nil
}

func (s *rawSub) read(r *bufio.Reader, onMsg func(string, []byte, time.Time)) {
	defer close(s.done)
	buf := make([]byte, 4096)
	for {
		h, err := r.ReadByte()
		if err != nil {
			s.err = err
			return
		}
		n, err := readRemaining(r)
		if err != nil {
			s.err = err
			return
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		p := buf[:n]
		if _, err := io.ReadFull(r, p); err != nil {
			s.err = err
			return
		}
		if h>>4 != 3 || n < 2 {
			continue
		}
		tl := int(binary.BigEndian.Uint16(p))
		if 2+tl > n {
			s.err = errors.New("mqtt: malformed publish")
			return
		}
		off := 2 + tl
		if (h>>1)&3 > 0 {
			off += 2
		}
		onMsg(string(p[2:2+tl]), p[off:], time.Now())
	}
}

func (s *rawSub) Close() {
	s.conn.Close()
	<-s.done
}

// newBarePaho is the baseline publisher: paho.mqtt.golang with its defaults,
// as a program publishing on its own would use it.
func newBarePaho(url, clientID string) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker(url).SetClientID(clientID).SetCleanSession(true).SetAutoReconnect(false)
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, errors.New("baseline: mqtt connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	return c, nil
}

// clearRetained publishes an empty retained message on every topic, so a
// run leaves nothing behind on a shared broker.
func clearRetained(url string, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	c, err := newBarePaho(url, fmt.Sprintf("c2m-bench-clean-%d", time.Now().UnixNano()))
	if err != nil {
		return err
	}
	defer c.Disconnect(250)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, t := range topics {
		sem <- struct{}{}
		wg.Add(1)
		tok := c.Publish(t, 1, true, []byte{})
		go func() {
			defer wg.Done()
			tok.WaitTimeout(10 * time.Second)
			<-sem
		}()
	}
	wg.Wait()
	return nil
}
