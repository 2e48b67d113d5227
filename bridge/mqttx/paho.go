package mqttx

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/rs/zerolog"
)

// Paho is the Client on paho.mqtt.golang.
type Paho struct {
	opts Options
	c    paho.Client
	r    router
	log  zerolog.Logger

	mu     sync.Mutex
	onConn []func()
	onLost []func(error)

	window   chan pending
	stop     chan struct{}
	stopOnce sync.Once
	// ready is closed once the first connection has its subscriptions.
	ready     chan struct{}
	readyOnce sync.Once
}

type pending struct {
	tok   paho.Token
	topic string
}

var _ Client = (*Paho)(nil)

// New builds a client; it does not connect.
func New(o Options) (*Paho, error) {
	o.defaults()
	if o.ClientID == "" {
		return nil, errors.New("mqtt: client id is required")
	}
	server, user, pass, err := parseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.Username == "" {
		o.Username, o.Password = user, pass
	}
	installLoggers(o.Log)

	p := &Paho{
		opts:   o,
		log:    o.Log.With().Str("component", "mqtt").Logger(),
		window: make(chan pending, o.InFlight),
		stop:   make(chan struct{}),
		ready:  make(chan struct{}),
	}
	if o.OnConnect != nil {
		p.onConn = append(p.onConn, o.OnConnect)
	}
	if o.OnConnectionLost != nil {
		p.onLost = append(p.onLost, o.OnConnectionLost)
	}

	po := paho.NewClientOptions().
		AddBroker(server).
		SetClientID(o.ClientID).
		SetCleanSession(o.CleanSession).
		// Subscriptions are made again in the connect handler; paho's resume
		// would only replay those made while connected.
		SetResumeSubs(false).
		// Handlers only enqueue, so delivering in order on paho's router
		// goroutine is safe and keeps a device's commands in order.
		SetOrderMatters(true).
		SetStore(copyStore{paho.NewMemoryStore()}).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(o.MaxReconnectInterval).
		SetConnectRetry(false). // Connect retries itself, logging why
		SetKeepAlive(o.KeepAlive).
		SetPingTimeout(o.ConnectTimeout).
		SetWriteTimeout(o.WriteTimeout).
		SetConnectTimeout(o.ConnectTimeout).
		SetDefaultPublishHandler(p.receive).
		SetOnConnectHandler(func(paho.Client) { p.connected() }).
		SetConnectionLostHandler(func(_ paho.Client, err error) { p.lost(err) })
	if o.Username != "" {
		po.SetUsername(o.Username)
		po.SetPassword(o.Password)
	}
	if o.TLS != nil {
		po.SetTLSConfig(o.TLS)
	}
	if o.Will != nil {
		po.SetBinaryWill(o.Will.Topic, o.Will.Payload, o.Will.QoS, o.Will.Retained)
	}
	p.c = paho.NewClient(po)
	go p.reap()
	return p, nil
}

func parseURL(raw string) (server, user, pass string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", "", fmt.Errorf("mqtt url: %w", redactURLError(err))
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return "", "", "", fmt.Errorf("mqtt url: scheme %q: want tcp, mqtt, ssl, tls, mqtts, ws or wss", u.Scheme)
	}
	if u.Host == "" {
		return "", "", "", errors.New("mqtt url: no host")
	}
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
		u.User = nil
	}
	return u.String(), user, pass, nil
}

// redactURLError drops the URL from a parse error (it may hold a password).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Connect connects, retrying with growing delays until the first connection is
// up, ctx ends or Disconnect is called.
func (p *Paho) Connect(ctx context.Context) error {
	delay := p.opts.ConnectRetryInterval
	for {
		tok := p.c.Connect()
		select {
		case <-tok.Done():
		case <-ctx.Done():
			p.c.Disconnect(0)
			return ctx.Err()
		}
		err := tok.Error()
		if err == nil {
			select {
			case <-p.ready:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		p.log.Warn().Err(err).Dur("retry_in", delay).Msg("mqtt connect failed")
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-p.stop:
			t.Stop()
			return ErrNotConnected
		case <-t.C:
		}
		delay = min(2*delay, p.opts.MaxReconnectInterval)
	}
}

// connected runs on paho's connect goroutine: make every subscription again,
// then tell the listeners.
func (p *Paho) connected() {
	p.log.Info().Msg("mqtt connected")
	if filters := p.r.filters(); len(filters) > 0 {
		if err := p.retry(func() paho.Token { return p.c.SubscribeMultiple(filters, nil) }); err != nil {
			p.log.Error().Err(err).Msg("mqtt resubscribe failed")
		}
	}
	p.readyOnce.Do(func() { close(p.ready) })
	p.mu.Lock()
	fs := append([]func(){}, p.onConn...)
	p.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

func (p *Paho) lost(err error) {
	p.log.Warn().Err(err).Msg("mqtt connection lost")
	p.mu.Lock()
	fs := append([]func(error){}, p.onLost...)
	p.mu.Unlock()
	for _, f := range fs {
		f(err)
	}
}

func (p *Paho) receive(_ paho.Client, m paho.Message) {
	p.r.dispatch(Message{
		Topic:     m.Topic(),
		Payload:   m.Payload(),
		Retained:  m.Retained(),
		QoS:       m.Qos(),
		Duplicate: m.Duplicate(),
	})
}

// Publish implements Client.
func (p *Paho) Publish(topic string, qos byte, retained bool, payload []byte) error {
	if !p.c.IsConnectionOpen() {
		return ErrNotConnected
	}
	tok := p.c.Publish(topic, qos, retained, payload)
	select {
	case <-tok.Done():
		return tok.Error()
	default:
	}
	if qos == 0 {
		return nil
	}
	select {
	case p.window <- pending{tok, topic}:
		return nil
	case <-p.stop:
		return ErrNotConnected
	}
}

// reap waits for QoS 1 acknowledgements in order; a full window makes
// Publish wait, which bounds what paho holds in memory.
func (p *Paho) reap() {
	for {
		select {
		case <-p.stop:
			return
		case pd := <-p.window:
			if err := p.waitOrStop(pd.tok); err != nil {
				if errors.Is(err, errStopped) {
					return
				}
				p.log.Debug().Err(err).Str("topic", pd.topic).Msg("mqtt publish not acknowledged")
				if p.opts.OnPublishError != nil {
					p.opts.OnPublishError(pd.topic, err)
				}
			}
		}
	}
}

var errStopped = errors.New("stopped")

func (p *Paho) waitOrStop(tok paho.Token) error {
	t := time.NewTimer(p.opts.AckTimeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-t.C:
		return ErrTimeout
	case <-p.stop:
		return errStopped
	}
}

func (p *Paho) wait(tok paho.Token) error {
	if !tok.WaitTimeout(p.opts.AckTimeout) {
		return ErrTimeout
	}
	if err := tok.Error(); err != nil {
		return err
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code == codeIDInUse {
				return errIDInUse
			}
			if code >= 0x80 {
				return fmt.Errorf("mqtt: broker refused subscription %q (code %#x)", f, code)
			}
		}
	}
	return nil
}

// codeIDInUse is MQTT 5's "packet identifier in use". Some brokers (mochi)
// answer a 3.1.1 SUBSCRIBE with it when its packet id equals that of a
// message they are sending us, though the two directions have separate ids.
const codeIDInUse = 0x91

var errIDInUse = errors.New("mqtt: broker says packet identifier in use")

// retry sends a subscribe again while the broker says its id is in use.
func (p *Paho) retry(send func() paho.Token) error {
	var err error
	for range 50 {
		if err = p.wait(send()); !errors.Is(err, errIDInUse) {
			return err
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-p.stop:
			return err
		}
	}
	return err
}

// Subscribe implements Client.
func (p *Paho) Subscribe(filter string, qos byte, h Handler) error {
	if h == nil {
		return errors.New("mqtt: nil handler")
	}
	p.r.add(filter, qos, h)
	if !p.c.IsConnectionOpen() {
		return nil // made on connect
	}
	return p.retry(func() paho.Token { return p.c.Subscribe(filter, qos, nil) })
}

// Unsubscribe implements Client.
func (p *Paho) Unsubscribe(filter string) error {
	p.r.remove(filter)
	if !p.c.IsConnectionOpen() {
		return nil
	}
	return p.wait(p.c.Unsubscribe(filter))
}

// OnConnect implements Client.
func (p *Paho) OnConnect(f func()) {
	p.mu.Lock()
	p.onConn = append(p.onConn, f)
	p.mu.Unlock()
}

// OnConnectionLost implements Client.
func (p *Paho) OnConnectionLost(f func(error)) {
	p.mu.Lock()
	p.onLost = append(p.onLost, f)
	p.mu.Unlock()
}

// Disconnect implements Client.
func (p *Paho) Disconnect() {
	p.stopOnce.Do(func() {
		close(p.stop)
		p.c.Disconnect(500)
		p.log.Info().Msg("mqtt disconnected")
	})
}

// IsConnected implements Client.
func (p *Paho) IsConnected() bool { return p.c.IsConnectionOpen() }

// copyStore is paho's memory store, keeping and handing out copies of
// publishes. Paho stores the very packet it queues for writing, and the
// writer changes it (the remaining length) as it writes; on a reconnect
// paho's resume reads each stored publish and marks it as a duplicate (Dup)
// while the new connection may be writing the same packet from its queue:
// data races inside paho (eclipse-paho/paho.mqtt.golang#703) that
// TestFaultBrokerRestarts hit under -race now and then. With a copy kept,
// the writer and resume never share a packet; the payload is shared, and
// paho only reads it.
type copyStore struct{ *paho.MemoryStore }

func (s copyStore) Put(key string, p packets.ControlPacket) {
	s.MemoryStore.Put(key, copyPublish(p))
}

func (s copyStore) Get(key string) packets.ControlPacket {
	return copyPublish(s.MemoryStore.Get(key))
}

func copyPublish(p packets.ControlPacket) packets.ControlPacket {
	if pub, ok := p.(*packets.PublishPacket); ok {
		cp := *pub
		return &cp
	}
	return p
}
