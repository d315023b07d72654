// Package echoserver is the built-in WebSocket echo upstream that
// `socketx demo` puts behind the proxy. Every message comes back with its
// type (text stays text, binary stays binary). It is a demo: one goroutine
// per connection, written with gobwas/ws's blocking helpers.
package echoserver

import (
	"errors"
	"io"
	"net"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Server is a running echo server.
type Server struct {
	ln net.Listener
}

// Listen starts an echo server on addr (e.g. "127.0.0.1:0").
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln}
	go s.serve()
	return s, nil
}

// URL is the ws:// URL of the server.
func (s *Server) URL() string { return "ws://" + s.ln.Addr().String() }

// Close stops accepting; open connections end when their peers leave.
func (s *Server) Close() error { return s.ln.Close() }

func (s *Server) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go echo(c)
	}
}

func echo(c net.Conn) {
	defer c.Close()
	if _, err := ws.Upgrade(c); err != nil {
		return
	}
	for {
		msg, op, err := wsutil.ReadClientData(c)
		if err != nil {
			var ce wsutil.ClosedError
			if errors.As(err, &ce) || errors.Is(err, io.EOF) {
				return
			}
			return
		}
		if err := wsutil.WriteServerMessage(c, op, msg); err != nil {
			return
		}
	}
}
