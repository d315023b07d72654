// Copyright (c) 2021 The Gnet Authors. All rights reserved.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"github.com/panjf2000/gnet/v2/pkg/queue"
	"github.com/panjf2000/gnet/v2/pkg/socket"
)

func (el *eventloop) accept0(fd int, _ netpoll.IOEvent, _ netpoll.IOFlags) error {
	for {
		nfd, sa, err := socket.Accept(fd)
		switch err {
		case nil:
		case unix.EAGAIN: // the Accept queue has been drained out, we can return now
			return nil
		case unix.EINTR, unix.ECONNRESET, unix.ECONNABORTED:
			// ECONNRESET or ECONNABORTED could indicate that a socket
			// in the Accept queue was closed before we Accept()ed it.
			// It's a silly error, let's retry it.
			continue
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
			// Out of descriptors or memory: shed a pending connection and keep
			// draining (the listener is edge-triggered here), or back off.
			switch el.shed(fd, err) {
			case nil:
				continue
			case unix.EAGAIN:
				return nil
			}
			el.pauseAccept(fd)
			return nil
		default:
			el.getLogger().Errorf("Accept() failed due to error: %v", err)
			return errors.ErrAcceptSocket
		}
		el.acceptBackoff = 0

		remoteAddr := socket.SockaddrToTCPOrUnixAddr(sa)
		network := el.listeners[fd].network
		if opts := el.engine.opts; opts.TCPKeepAlive > 0 && network == "tcp" &&
			(runtime.GOOS != "linux" && runtime.GOOS != "freebsd" && runtime.GOOS != "dragonfly") {
			// TCP keepalive options are not inherited from the listening socket
			// on platforms other than Linux, FreeBSD, or DragonFlyBSD.
			// We therefore need to set them on the accepted socket explicitly.
			//
			// Check out https://github.com/nginx/nginx/pull/337 for details.
			if err = setKeepAlive(
				nfd,
				true,
				opts.TCPKeepAlive,
				opts.TCPKeepInterval,
				opts.TCPKeepCount); err != nil {
				el.getLogger().Errorf("failed to set TCP keepalive on fd=%d: %v", fd, err)
			}
		}

		el := el.engine.eventLoops.next(remoteAddr)
		c := newStreamConn(network, nfd, el, sa, el.listeners[fd].addr, remoteAddr)
		err = el.poller.Trigger(queue.HighPriority, el.register, c)
		if err != nil {
			el.getLogger().Errorf("failed to enqueue the accepted socket fd=%d to poller: %v", c.fd, err)
			_ = unix.Close(nfd)
			c.release()
		}
	}
}

func (el *eventloop) accept(fd int, ev netpoll.IOEvent, flags netpoll.IOFlags) error {
	network := el.listeners[fd].network
	if network == "udp" {
		return el.readUDP(fd, ev, flags)
	}

	nfd, sa, err := socket.Accept(fd)
	switch err {
	case nil:
	case unix.EINTR, unix.EAGAIN, unix.ECONNRESET, unix.ECONNABORTED:
		// ECONNRESET or ECONNABORTED could indicate that a socket
		// in the Accept queue was closed before we Accept()ed it.
		// It's a silly error, let's retry it.
		return nil
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
		// Out of descriptors or memory: shed one pending connection (the
		// listener is level-triggered here and fires again for the next),
		// or back off.
		if err = el.shed(fd, err); err != nil && err != unix.EAGAIN {
			el.pauseAccept(fd)
		}
		return nil
	default:
		el.getLogger().Errorf("Accept() failed due to error: %v", err)
		return errors.ErrAcceptSocket
	}

	remoteAddr := socket.SockaddrToTCPOrUnixAddr(sa)
	if opts := el.engine.opts; opts.TCPKeepAlive > 0 && el.listeners[fd].network == "tcp" &&
		(runtime.GOOS != "linux" && runtime.GOOS != "freebsd" && runtime.GOOS != "dragonfly") {
		// TCP keepalive options are not inherited from the listening socket
		// on platforms other than Linux, FreeBSD, or DragonFlyBSD.
		// We therefore need to set them on the accepted socket explicitly.
		//
		// Check out https://github.com/nginx/nginx/pull/337 for details.
		if err = setKeepAlive(
			nfd,
			true,
			opts.TCPKeepAlive,
			opts.TCPKeepInterval,
			opts.TCPKeepCount); err != nil {
			el.getLogger().Errorf("failed to set TCP keepalive on fd=%d: %v", fd, err)
		}
	}

	el.acceptBackoff = 0
	c := newStreamConn(network, nfd, el, sa, el.listeners[fd].addr, remoteAddr)
	return el.register0(c)
}

// reserveFD is a descriptor an acceptor holds back so that it can still
// accept, and at once close, a pending connection when the process or the
// system is out of descriptors (EMFILE, ENFILE): the technique of libev and
// libuv. Without it the connection would stay in the backlog and the
// listener would report it again and again.
type reserveFD struct {
	fd    int
	valid bool
}

// reservePath is the file a reserve descriptor opens (a variable so that
// the tests can make the reserve unavailable).
var reservePath = "/dev/null"

// open takes the reserve: /dev/null, read-only, close-on-exec.
func (r *reserveFD) open() {
	if r.valid {
		return
	}
	fd, err := unix.Open(reservePath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		r.fd, r.valid = fd, true
	}
}

// close gives the reserve back to the process.
func (r *reserveFD) close() {
	if r.valid {
		_ = unix.Close(r.fd)
		r.valid = false
	}
}

// Accept backoff bounds: when no connection can be shed, accepting pauses
// for minAcceptBackoff, doubling up to maxAcceptBackoff while it keeps failing.
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

// shed handles an accept(2) failure for lack of resources. On EMFILE or
// ENFILE it frees the reserve descriptor, accepts one pending connection,
// closes it at once and takes the reserve again. It returns nil when the
// acceptor can go on accepting, unix.EAGAIN when the backlog turned out
// empty (Linux reports EMFILE before it looks at the queue), and any other
// error when it must back off: ENOBUFS, ENOMEM, or a reserve that another
// thread's descriptor took the place of. Options.AcceptErrorHandler hears
// of every call.
func (el *eventloop) shed(fd int, err error) error {
	r := &el.acceptReserve
	r.open() // retry a reserve lost earlier; usually a no-op
	if (err != unix.EMFILE && err != unix.ENFILE) || !r.valid {
		el.acceptFailed(err, false)
		return err
	}
	r.close()
	nfd, _, aerr := socket.Accept(fd)
	if aerr == nil {
		_ = unix.Close(nfd)
	}
	r.open()
	el.acceptFailed(err, aerr == nil)
	switch {
	case !r.valid:
		return err
	case aerr == unix.EAGAIN, aerr == unix.EMFILE, aerr == unix.ENFILE:
		return aerr
	}
	return nil // dropped one, or an error the next accept(2) reports again
}

// acceptFailed reports an accept error the acceptor survived.
func (el *eventloop) acceptFailed(err error, dropped bool) {
	if h := el.engine.opts.AcceptErrorHandler; h != nil {
		h(err, dropped)
	}
}

// pauseAccept stops watching the listener fd and watches it again after a
// backoff of 5 ms doubling up to 1 s. The re-arm goes through the poller's
// task queue, so the event-loop keeps serving (and can shut down) meanwhile;
// adding the listener back reports the connections still pending.
func (el *eventloop) pauseAccept(fd int) {
	switch el.acceptBackoff *= 2; {
	case el.acceptBackoff < minAcceptBackoff:
		el.acceptBackoff = minAcceptBackoff
	case el.acceptBackoff > maxAcceptBackoff:
		el.acceptBackoff = maxAcceptBackoff
	}
	if err := el.poller.Delete(fd); err != nil {
		el.getLogger().Errorf("failed to pause accepting on fd=%d: %v", fd, err)
		return
	}
	ctx := el.engine.concurrency.ctx
	time.AfterFunc(el.acceptBackoff, func() {
		if ctx.Err() != nil {
			return // the engine is stopping; its poller may be closed
		}
		if err := el.poller.Trigger(queue.LowPriority, el.resumeAccept, fd); err != nil {
			el.getLogger().Errorf("failed to enqueue resuming accept on fd=%d: %v", fd, err)
		}
	})
}

// resumeAccept watches a paused listener again, in the mode it was added
// with: edge-triggered on the main reactor, level-triggered otherwise.
func (el *eventloop) resumeAccept(a any) error {
	ln := el.listeners[a.(int)]
	return el.poller.AddRead(ln.pollAttachment, el.idx < 0)
}
