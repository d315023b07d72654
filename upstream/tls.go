package upstream

import (
	"crypto/tls"
	"net"
	"os"
	"sync"
)

// bridge copies between a TLS upstream connection and the bridge's end of a
// Unix socketpair whose other end the engine owns.
type bridge struct {
	m    *Manager
	tls  *tls.Conn
	pair *net.UnixConn // the bridge's end
	once sync.Once
}

// newBridge creates the socketpair, starts the two copy goroutines and
// returns the engine's end. On error tc is left open for the caller.
func (m *Manager) newBridge(tc *tls.Conn) (*net.UnixConn, error) {
	fds, err := socketpair()
	if err != nil {
		return nil, err
	}
	engine, err := fdConn(fds[0], "upstream-bridge-engine")
	if err != nil {
		closeFD(fds[1])
		return nil, err
	}
	side, err := fdConn(fds[1], "upstream-bridge")
	if err != nil {
		_ = engine.Close()
		return nil, err
	}
	b := &bridge{m: m, tls: tc, pair: side}
	m.stats.bridgesOpen.Add(1)
	m.stats.bridgesTotal.Add(1)
	m.bridges.Add(2)
	go b.down()
	go b.up()
	return engine, nil
}

// fdConn wraps fd (consumed) in a *net.UnixConn.
func fdConn(fd int, name string) (*net.UnixConn, error) {
	f := os.NewFile(uintptr(fd), name)
	c, err := net.FileConn(f) // dups fd
	_ = f.Close()
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		_ = c.Close()
		return nil, errBridgeSocket
	}
	return uc, nil
}

// down copies TLS upstream -> engine until either side ends.
func (b *bridge) down() {
	defer b.m.bridges.Done()
	bp := b.m.bufPool.Get().(*[]byte)
	buf := *bp
	for {
		n, err := b.tls.Read(buf)
		if n > 0 {
			if _, werr := b.pair.Write(buf[:n]); werr != nil {
				break
			}
			b.m.stats.bytesDown.Add(uint64(n))
		}
		if err != nil {
			break
		}
	}
	b.m.bufPool.Put(bp)
	b.close()
}

// up copies engine -> TLS upstream until either side ends.
func (b *bridge) up() {
	defer b.m.bridges.Done()
	bp := b.m.bufPool.Get().(*[]byte)
	buf := *bp
	for {
		n, err := b.pair.Read(buf)
		if n > 0 {
			if _, werr := b.tls.Write(buf[:n]); werr != nil {
				break
			}
			b.m.stats.bytesUp.Add(uint64(n))
		}
		if err != nil {
			break
		}
	}
	b.m.bufPool.Put(bp)
	b.close()
}

// close ends both sides once: the pair end first so the engine reads EOF,
// then the TLS connection, which sends close_notify unless a Write is still
// in flight (crypto/tls then just closes the socket).
func (b *bridge) close() {
	b.once.Do(func() {
		_ = b.pair.Close()
		_ = b.tls.Close()
		b.m.stats.bridgesOpen.Add(-1)
	})
}
