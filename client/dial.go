package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/gobwas/ws"
	"github.com/socketx/socketx-server/mte"
)

// readBufferSize is the Conn's bufio size; it must hold a control frame with
// its header (139 bytes).
const readBufferSize = 4096

// Handshake states, named as in the SocketX client SDKs.
const (
	stateSentHello           = "sentHello"
	stateSentPairRequest     = "sentPairRequest"
	stateSentUpstreamRequest = "sentUpstreamRequest"
)

// Dial connects to a SocketX proxy at rawURL (ws:// or wss://), pairs with
// it and asks it to connect the upstream for the URL's pathname. It returns
// when the proxy answered action 5, i.e. the upstream is connected.
//
// A refused upgrade returns *UpgradeError (the HTTP status: errors.Is
// ErrOriginNotAllowed for 403, ErrUnknownHost for 404, ErrUnavailable for
// 503); a close frame during the handshake returns *CloseError; a
// handshake message out of order returns *HandshakeError; a pairResponse
// that does not verify returns *MTEError with Op "pair"; with
// Options.ServerKeys, a server that does not prove one of them returns
// *ServerAuthError.
func Dial(ctx context.Context, rawURL string, opts Options) (*Conn, error) {
	params, err := opts.profileParams()
	if err != nil {
		return nil, err
	}
	profile, err := mte.NewProfile(params)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	pathname := Pathname(u)
	if opts.Pathname != nil {
		pathname = *opts.Pathname
	}
	u.Fragment, u.RawFragment = "", ""
	if len(opts.ServerKeys) == 0 {
		return dial(ctx, u, &opts, profile, pathname, nil)
	}
	for i := range opts.ServerKeys {
		c, err := dial(ctx, u, &opts, profile, pathname, &opts.ServerKeys[i])
		var ce *CloseError
		if i+1 < len(opts.ServerKeys) && errors.As(err, &ce) && ce.Code == 1008 && ce.Reason == mte.ErrUnknownServerKey.Error() {
			continue // the proxy does not hold this key: try the next
		}
		return c, err
	}
	panic("unreachable")
}

// dial is one connection attempt of Dial, pinned to pin when it is set.
func dial(ctx context.Context, u *url.URL, opts *Options, profile *mte.Profile, pathname string, pin *ServerKey) (*Conn, error) {
	header := opts.Header.Clone()
	if opts.Origin != "" {
		if header == nil {
			header = http.Header{}
		}
		header.Set("Origin", opts.Origin)
	}
	d := ws.Dialer{
		Protocols: opts.Protocols,
		TLSConfig: opts.TLSConfig,
		Timeout:   opts.dialTimeout(),
		NetDial:   opts.NetDial,
	}
	if len(header) > 0 {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	var refused *UpgradeError
	d.OnStatusError = func(status int, phrase []byte, resp io.Reader) {
		refused = newUpgradeError(status, phrase, resp)
	}
	nc, br, hs, err := d.Dial(ctx, u.String())
	if err != nil {
		var se ws.StatusError
		if refused != nil && errors.As(err, &se) {
			return nil, refused
		}
		return nil, fmt.Errorf("client: dial %s://%s: %w", u.Scheme, u.Host, err)
	}
	var rd io.Reader = nc
	if br != nil {
		// The server wrote after its 101 response; keep those bytes.
		early, _ := br.Peek(br.Buffered())
		rd = io.MultiReader(bytes.NewReader(append([]byte(nil), early...)), nc)
		ws.PutReader(br)
	}
	c := newConn(nc, frameReader{br: bufio.NewReaderSize(rd, readBufferSize), limit: opts.readLimit()}, hs.Protocol)

	pctx, cancel := context.WithTimeout(ctx, opts.pairTimeout())
	defer cancel()
	if err := c.handshake(pctx, profile, pathname, pin); err != nil {
		c.conn.Close()
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("client: handshake: %w", err)
		}
		return nil, err
	}
	return c, nil
}

// handshake runs actions 0 to 5 (docs/PROTOCOL.md).
func (c *Conn) handshake(ctx context.Context, profile *mte.Profile, pathname string, pin *ServerKey) error {
	c.rmu.Lock()
	defer c.rmu.Unlock()

	// 0 → 1: hello.
	if err := c.writeHandshake(ctx, mte.ActionRequest, nil); err != nil {
		return err
	}
	if _, err := c.expectLocked(ctx, stateSentHello, mte.ActionResponse); err != nil {
		return err
	}

	// 2 → 3: pairing.
	var (
		in  *mte.Initiator
		err error
	)
	if pin != nil {
		in, err = mte.NewPinnedInitiator(profile, *pin, rand.Reader)
	} else {
		in, err = mte.NewInitiator(profile, rand.Reader)
	}
	if err != nil {
		return &MTEError{Op: "pair", Err: err}
	}
	if err := c.writeHandshake(ctx, mte.ActionPairRequest, in.Request()); err != nil {
		return err
	}
	resp, err := c.expectLocked(ctx, stateSentPairRequest, mte.ActionPairResponse)
	if err != nil {
		return err
	}
	if err := in.Finish(resp, &c.session); err != nil {
		if errors.Is(err, mte.ErrServerAuth) && pin != nil {
			// Refuse before action 4: the pathname never reaches this server.
			code, reason := mte.CloseCode(err)
			return c.closeWithLocked(ctx, code, reason, &ServerAuthError{
				Unsupported: errors.Is(err, mte.ErrServerAuthUnsupported), KeyID: pin.ID(), Err: err,
			})
		}
		return c.failLocked(ctx, &MTEError{Op: "pair", Err: err})
	}
	c.eeid = c.session.EEID()

	// 4 → 5: the encoder's first message names the upstream path.
	body, err := json.Marshal(struct {
		Pathname string `json:"pathname"`
	}{pathname})
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	c.wmu.Lock()
	msg, err := c.session.Encoder().Seal(make([]byte, maxFrameHeader, maxFrameHeader+mte.HeaderLen+mte.Overhead+len(body)),
		mte.ActionUpstreamRequest, mte.TypeHandshake, body)
	if err == nil {
		err = c.writeFrameLocked(ctx, ws.OpBinary, msg)
	} else {
		err = &MTEError{Op: "encode", Err: err}
	}
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	_, err = c.expectLocked(ctx, stateSentUpstreamRequest, mte.ActionUpstreamResponse)
	return err
}

// writeHandshake writes one plaintext handshake message (type 254).
func (c *Conn) writeHandshake(ctx context.Context, a mte.Action, payload []byte) error {
	buf := make([]byte, maxFrameHeader, maxFrameHeader+mte.HeaderLen+len(payload))
	buf = append(mte.AppendHeader(buf, a, mte.TypeHandshake), payload...)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeFrameLocked(ctx, ws.OpBinary, buf)
}

// expectLocked reads the next message and checks it is action want, returning
// its payload. c.rmu must be held.
func (c *Conn) expectLocked(ctx context.Context, state string, want mte.Action) ([]byte, error) {
	msg, err := c.readMessageLocked(ctx)
	if err != nil {
		return nil, err
	}
	h, payload, err := mte.ParseHeader(msg)
	if err != nil {
		return nil, c.failLocked(ctx, &MTEError{Op: "decode", Err: err})
	}
	if h.Action != want {
		herr := &HandshakeError{State: state, Action: h.Action}
		return nil, c.closeWithLocked(ctx, uint16(ws.StatusProtocolError), herr.Error(), herr)
	}
	if err := h.Validate(); err != nil {
		return nil, c.failLocked(ctx, &MTEError{Op: "decode", Err: err})
	}
	return payload, nil
}
