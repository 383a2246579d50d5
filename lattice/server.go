package lattice

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerOptions configure the embedded NATS server a host runs when it is
// given no NATS URL to join.
type ServerOptions struct {
	// Listen is the client address, host:port. Port 0 or -1 picks a free
	// port (tests).
	Listen string
	// LeafListen is where the server accepts leaf nodes ("" turns it off).
	LeafListen string
	// LeafRemote, when set, makes this server a leaf node of the server at
	// that URL. A leaf runs no JetStream of its own: lattice state and
	// artifacts stay in the hub's JetStream, reached over the leaf
	// connection, while local traffic keeps flowing when the link is down.
	LeafRemote string
	// DataDir holds the JetStream file store.
	DataDir string
	// MaxPayload is the largest message; 0 means 8 MiB.
	MaxPayload int32
	// Log receives the server's notices (errors and warnings only).
	Log *slog.Logger
}

// DefaultMaxPayload is the embedded server's message limit. Larger payloads
// travel through the object store (see rpc.go).
const DefaultMaxPayload = 8 << 20

// Server is a running embedded NATS server.
type Server struct {
	*server.Server
	// LeafURL is the URL leaf nodes join this server at, or "".
	LeafURL string
}

// StartServer starts an embedded NATS server and waits until it accepts
// connections.
func StartServer(o ServerOptions) (*Server, error) {
	host, port, err := splitHostPort(o.Listen, "127.0.0.1", 4222)
	if err != nil {
		return nil, fmt.Errorf("lattice: --nats-listen %q: %w", o.Listen, err)
	}
	opts := &server.Options{
		ServerName: "spore-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Host:       host,
		Port:       port,
		MaxPayload: o.MaxPayload,
		NoSigs:     true,
		NoLog:      o.Log == nil,
		// Leaf connections deny JetStream API traffic of non-system
		// accounts unless the account's default domain is "" on both
		// sides. A leaf host runs no JetStream and reaches the hub's
		// through the leaf connection, so the hub and the leaf both say so.
		// (nats-server calls this a compatibility setting; JetStream
		// domains are the long-term way.)
		JsAccDefaultDomain: map[string]string{server.DEFAULT_GLOBAL_ACCOUNT: ""},
	}
	if opts.MaxPayload == 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	if o.LeafRemote == "" {
		opts.JetStream = true
		opts.StoreDir = filepath.Join(o.DataDir, "jetstream")
	} else {
		u, err := url.Parse(o.LeafRemote)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("lattice: --leaf %q: want a URL such as nats-leaf://hub.example.com:7422", o.LeafRemote)
		}
		opts.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: []*url.URL{u}}}
		opts.LeafNode.ReconnectInterval = time.Second
	}
	if o.LeafListen != "" && o.LeafRemote == "" {
		lh, lp, err := splitHostPort(o.LeafListen, "127.0.0.1", 7422)
		if err != nil {
			return nil, fmt.Errorf("lattice: --leaf-listen %q: %w", o.LeafListen, err)
		}
		if lp <= 0 {
			if lp, err = freePort(lh); err != nil {
				return nil, fmt.Errorf("lattice: --leaf-listen: %w", err)
			}
		}
		opts.LeafNode.Host, opts.LeafNode.Port = lh, lp
	}
	// Refuse a port in use before the server opens the JetStream store: two
	// servers must never share a data directory, not even for a moment.
	if port > 0 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("lattice: --nats-listen %s: %w (is another host running? give each its own --nats-listen and --data-dir)", o.Listen, err)
		}
		l.Close()
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("lattice: nats server: %w", err)
	}
	if o.Log != nil {
		s.SetLoggerV2(&natsLog{o.Log}, false, false, false)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("lattice: nats server did not start listening on %s within 10s (port in use?)", o.Listen)
	}
	out := &Server{Server: s}
	if opts.LeafNode.Port > 0 {
		out.LeafURL = "nats-leaf://" + net.JoinHostPort(opts.LeafNode.Host, strconv.Itoa(opts.LeafNode.Port))
	}
	return out, nil
}

// freePort asks the kernel for a free TCP port on host.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func splitHostPort(hp, defHost string, defPort int) (string, int, error) {
	if hp == "" {
		return defHost, defPort, nil
	}
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	if h == "" {
		h = defHost
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	if port == 0 {
		port = -1 // nats-server's "pick a free port"
	}
	return h, port, nil
}

// natsLog passes the server's errors and warnings to slog.
type natsLog struct{ log *slog.Logger }

func (l *natsLog) Noticef(format string, v ...any) {}
func (l *natsLog) Warnf(format string, v ...any) {
	if strings.Contains(format, "default_js_domain") {
		return // the setting above, on purpose
	}
	l.log.Warn(fmt.Sprintf(format, v...), "component", "nats")
}
func (l *natsLog) Fatalf(format string, v ...any) {
	l.log.Error(fmt.Sprintf(format, v...), "component", "nats")
}
func (l *natsLog) Errorf(format string, v ...any) {
	l.log.Error(fmt.Sprintf(format, v...), "component", "nats")
}
func (l *natsLog) Debugf(format string, v ...any) {}
func (l *natsLog) Tracef(format string, v ...any) {}
