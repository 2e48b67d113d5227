package config

import (
	"context"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Fake vendors registered for this package's tests only.

type fakeAccount struct {
	Name     string         `yaml:"name"`
	Token    vendors.Secret `yaml:"token"`
	Interval time.Duration  `yaml:"interval"`
	Port     int            `yaml:"port"`
	CertFile string         `yaml:"cert_file"` // a path: never read as a secret
	Nested   struct {
		Host string         `yaml:"host"`
		Key  vendors.Secret `yaml:"key"`
	} `yaml:"nested"`
	Tags []string `yaml:"tags"`
}

type fakeAdapter struct{ cfg fakeAccount }

func (fakeAdapter) Run(ctx context.Context, _ vendors.Sink) error {
	<-ctx.Done()
	return ctx.Err()
}
func (fakeAdapter) Execute(context.Context, vendors.Command) error { return nil }

func fakeFactory(_ vendors.Env, decode func(any) error) (vendors.Adapter, error) {
	var c fakeAccount
	if err := decode(&c); err != nil {
		return nil, err
	}
	return fakeAdapter{c}, nil
}

const fakeSample = `- name: home # account name
  token: tok-0123456789 # API token (or token_file: /run/secrets/token)
  interval: 30s # poll interval
  # port: 443 # cloud port
  nested:
    host: api.example.com # cloud host
- name: office # a second account

  tags: [a, b] # tags
`

func init() {
	vendors.Register(vendors.Registration{Vendor: "testvendor", Factory: fakeFactory, Sample: fakeSample})
	vendors.Register(vendors.Registration{Vendor: "testother", Factory: fakeFactory, Sample: "# - name: home # nothing enabled by default\n"})
	vendors.Register(vendors.Registration{Vendor: "testempty", Factory: fakeFactory})
}
