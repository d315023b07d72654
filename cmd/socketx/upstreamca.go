package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/config"
)

// logUpstreamCAs logs, once at start, each certificate UPSTREAM_CA_FILE and
// UPSTREAM_CA_PEM add to the system roots: where it came from, its subject,
// validity and SHA-256 fingerprint. A certificate outside its validity
// period is logged as a warning: it anchors no chain until it is valid.
func logUpstreamCAs(cfg config.Config, now time.Time, log *zap.Logger) {
	if len(cfg.UpstreamCAFileCerts)+len(cfg.UpstreamCAPEMCerts) == 0 {
		return
	}
	each := func(source string, certs []*x509.Certificate) {
		for _, c := range certs {
			sum := sha256.Sum256(c.Raw)
			fields := []zap.Field{
				zap.String("source", source),
				zap.String("subject", c.Subject.String()),
				zap.Time("not_before", c.NotBefore),
				zap.Time("not_after", c.NotAfter),
				zap.String("sha256", hex.EncodeToString(sum[:])),
			}
			switch {
			case now.After(c.NotAfter):
				log.Warn("Upstream CA certificate has expired", fields...)
			case now.Before(c.NotBefore):
				log.Warn("Upstream CA certificate is not valid yet", fields...)
			default:
				log.Info("Upstream CA certificate", fields...)
			}
		}
	}
	each("UPSTREAM_CA_FILE", cfg.UpstreamCAFileCerts)
	each("UPSTREAM_CA_PEM", cfg.UpstreamCAPEMCerts)
	log.Info("Upstream CAs added to the system roots for wss:// upstreams",
		zap.Int("certificates", len(cfg.UpstreamCAs())))
}
