package vendors

// Secret is a string that never prints: fmt, JSON, text and zerolog see "***".
// Use Reveal where the cloud needs the value.
type Secret string

const redacted = "***"

func (s Secret) String() string   { return redacted }
func (s Secret) GoString() string { return redacted }

// MarshalText hides the value from encoding/json and zerolog.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Reveal returns the value.
func (s Secret) Reveal() string { return string(s) }
