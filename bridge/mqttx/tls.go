package mqttx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSFiles names the files of a broker TLS setup.
type TLSFiles struct {
	CAFile   string // PEM bundle to trust instead of the system roots
	CertFile string // client certificate (with KeyFile)
	KeyFile  string
	// Insecure skips verification of the broker's certificate.
	Insecure   bool
	ServerName string
}

// LoadTLS builds the tls.Config for the broker connection.
func LoadTLS(f TLSFiles) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: f.Insecure, //nolint:gosec // explicit user choice
		ServerName:         f.ServerName,
	}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt tls ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt tls ca %s: no certificate found", f.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, errors.New("mqtt tls: client certificate and key go together")
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt tls client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
