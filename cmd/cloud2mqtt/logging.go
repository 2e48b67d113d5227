package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// newLogger builds the root logger: console for a terminal, JSON otherwise,
// every line passed through the redactor.
func newLogger(w io.Writer, level, format string, red *vendorkit.Redactor) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || lvl == zerolog.NoLevel {
		return zerolog.Nop(), fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	out := red.Writer(w)
	console := format == "console"
	if format == "" || format == "auto" {
		if f, ok := w.(*os.File); ok {
			fi, err := f.Stat()
			console = err == nil && fi.Mode()&os.ModeCharDevice != 0
		}
	}
	if console {
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), nil
}
