package main

import (
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger maps LOG_LEVEL onto zap. zap has no trace level: trace logs
// what debug logs (and is the level at which per-message events appear);
// disabled returns a no-op logger.
func newLogger(level string, console bool) (*zap.Logger, error) {
	var lvl zapcore.Level
	switch level {
	case "trace", "debug":
		lvl = zapcore.DebugLevel
	case "info":
		lvl = zapcore.InfoLevel
	case "warn":
		lvl = zapcore.WarnLevel
	case "error":
		lvl = zapcore.ErrorLevel
	case "fatal":
		lvl = zapcore.FatalLevel
	case "panic":
		lvl = zapcore.PanicLevel
	case "disabled":
		return zap.NewNop(), nil
	default:
		return nil, fmt.Errorf("config: LOG_LEVEL=%q: want one of trace, debug, info, warn, error, fatal, panic, disabled", level)
	}
	var cfg zap.Config
	if console {
		cfg = zap.NewDevelopmentConfig()
	} else {
		cfg = zap.NewProductionConfig()
		cfg.Sampling = nil
		cfg.EncoderConfig.TimeKey = "time"
		cfg.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.DisableStacktrace = true
	return cfg.Build()
}
