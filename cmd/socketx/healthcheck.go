package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// healthcheck GETs /health on the local listener and exits 0 on 200.
func healthcheck(lookup func(string) (string, bool)) int {
	host, port := "127.0.0.1", "8080"
	if v, ok := lookup("LISTEN_PORT"); ok && strings.TrimSpace(v) != "" {
		port = strings.TrimSpace(v)
	}
	if v, ok := lookup("LISTEN_HOST"); ok && v != "" && v != "0.0.0.0" && v != "::" {
		host = v
	}
	client := http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + "/health")
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "healthcheck: /health answered", resp.Status)
		return 1
	}
	return 0
}
