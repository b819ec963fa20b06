package tlswire

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

var errNotHandshaked = errors.New("tls client: Handshake has not completed")

// Read reads application data. It returns io.EOF after the server's
// close_notify, and the Alert (wrapped) after a fatal alert. A
// HelloRequest is answered with a no_renegotiation warning.
func (c *Conn) Read(b []byte) (int, error) {
	c.in.Lock()
	defer c.in.Unlock()
	if !c.handshaked {
		return 0, errNotHandshaked
	}
	if len(b) == 0 {
		return 0, nil
	}
	for useless := 0; len(c.input) == 0; useless++ {
		if c.readErr != nil {
			return 0, c.readErr
		}
		if useless > maxUselessRecords {
			c.readErr = fmt.Errorf("%d records in a row without data: %w", useless, ErrUnexpected)
			break
		}
		c.readErr = c.readRecord()
	}
	if len(c.input) == 0 {
		return 0, c.readErr
	}
	n := copy(b, c.input)
	c.input = c.input[n:]
	return n, nil
}

// readRecord reads one message after the handshake into c.input.
func (c *Conn) readRecord() error {
	m, err := c.rd.Next()
	if err != nil {
		return err
	}
	switch {
	case m.ContentType == TypeApplicationData:
		c.input = m.Body
	case m.ContentType == TypeAlert && m.Alert.Description == AlertCloseNotify:
		return io.EOF
	case m.ContentType == TypeAlert && m.Alert.Fatal():
		return fmt.Errorf("tls client: %w", m.Alert)
	case m.ContentType == TypeAlert:
		// A warning: nothing to read, keep going.
	case m.ContentType == TypeHandshake && m.HSType == HSHelloRequest && len(m.Body) == 0:
		// The server asks for a renegotiation; decline (RFC 5246, 7.2.2).
		if err := c.send(TypeAlert, []byte{1, AlertNoRenegotiation}); err != nil {
			return fmt.Errorf("tls client: declining a renegotiation: %w", err)
		}
	default:
		return fmt.Errorf("tls client: %s record (handshake type %d) after the handshake: %w", typeName(m.ContentType), m.HSType, ErrUnexpected)
	}
	return nil
}

// Write sends b as application data.
func (c *Conn) Write(b []byte) (int, error) {
	if !c.handshaked {
		return 0, errNotHandshaked
	}
	c.out.Lock()
	defer c.out.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if len(b) == 0 {
		return 0, nil
	}
	if err := c.writeRecordLocked(TypeApplicationData, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close sends close_notify (after a completed handshake, waiting at most a
// second for the socket to take it) and closes the connection.
func (c *Conn) Close() error {
	c.out.Lock()
	notify := c.handshaked && !c.closed
	c.closed = true
	if notify {
		_ = c.conn.SetWriteDeadline(time.Now().Add(closeNotifyTimeout))
		_ = c.writeRecordLocked(TypeAlert, []byte{1, AlertCloseNotify})
	}
	c.out.Unlock()
	return c.conn.Close()
}

// WriteRecord sends one record of type typ through the connection's
// record protection, for probes that speak past the handshake (a
// renegotiating ClientHello). Application data goes through Write.
func (c *Conn) WriteRecord(typ uint8, payload []byte) error {
	if !c.handshaked {
		return errNotHandshaked
	}
	c.out.Lock()
	defer c.out.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	return c.writeRecordLocked(typ, payload)
}

// NextMessage returns the next message the server sent after the
// handshake, decrypted, as it came: alerts are messages here, not errors.
// It is for probes; do not mix it with Read.
func (c *Conn) NextMessage() (Message, error) {
	if !c.handshaked {
		return Message{}, errNotHandshaked
	}
	c.in.Lock()
	defer c.in.Unlock()
	return c.rd.Next()
}

// LocalAddr implements net.Conn.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr implements net.Conn.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// SetDeadline implements net.Conn.
func (c *Conn) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// SetReadDeadline implements net.Conn.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline implements net.Conn.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }
