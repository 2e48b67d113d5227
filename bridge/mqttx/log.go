package mqttx

import (
	"fmt"
	"strings"
	"sync"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/rs/zerolog"
)

var loggersOnce sync.Once

// installLoggers routes paho's package-wide loggers to zerolog once, before
// the first client starts: its errors and warnings at debug (the client logs
// what matters itself), its chatter at trace. Loggers that would discard
// everything are not installed, so paho formats nothing.
func installLoggers(log zerolog.Logger) {
	loggersOnce.Do(func() {
		log = log.With().Str("component", "paho").Logger()
		if log.GetLevel() <= zerolog.DebugLevel {
			paho.ERROR = pahoLogger{log, zerolog.DebugLevel}
			paho.CRITICAL = pahoLogger{log, zerolog.DebugLevel}
			paho.WARN = pahoLogger{log, zerolog.DebugLevel}
		}
		if log.GetLevel() <= zerolog.TraceLevel {
			paho.DEBUG = pahoLogger{log, zerolog.TraceLevel}
		}
	})
}

type pahoLogger struct {
	log   zerolog.Logger
	level zerolog.Level
}

func (l pahoLogger) Println(v ...any) {
	l.log.WithLevel(l.level).Msg(strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}

func (l pahoLogger) Printf(format string, v ...any) {
	l.log.WithLevel(l.level).Msgf(format, v...)
}
