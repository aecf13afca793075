// A gRPC server in Go, as grpc-go's users write one: the standard health
// service (grpc.health.v1.Health) registered, SO_REUSEPORT on its port so a
// new process can bind beside the old one, and on SIGTERM the health service
// set to NOT_SERVING, then GracefulStop: grpc-go's own drain, which sends the
// two GOAWAYs (a notice, a PING, the final one; grpc/grpc-go#1387, PR #1403)
// and waits for the streams it took. A Watch stream never ends on its own,
// so after DRAIN_SECONDS (default 5) Stop cuts what is left, as the common
// pattern does. grpc-go is Debian's (golang-google-grpc-dev), built in GOPATH
// mode: no module can be downloaded here.
//
// Each answer carries the process's PID in its metadata (x-server-pid), as
// the seed's servers put it in their body, so the gate can tell old from new.
//
// `server -probe` asks the health service through the shared port and exits
// 0 when it is SERVING: the restart script's readiness check (curl cannot
// speak gRPC).
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// SO_REUSEPORT on Linux (include/uapi/asm-generic/socket.h); the frozen
// syscall package does not name it.
const soReusePort = 0xf

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func listen(addr string) (net.Listener, error) {
	config := net.ListenConfig{Control: func(network, address string, conn syscall.RawConn) error {
		var optErr error
		err := conn.Control(func(fd uintptr) {
			optErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
		})
		if err != nil {
			return err
		}
		return optErr
	}}
	return config.Listen(context.Background(), "tcp", addr)
}

// withPid puts this process's PID in every unary answer's header metadata.
func withPid(pid string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req interface{}, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (interface{}, error) {
		_ = grpc.SetHeader(ctx, metadata.Pairs("x-server-pid", pid))
		return handler(ctx, req)
	}
}

func serve(port string, drain time.Duration) {
	ln, err := listen(":" + port)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	server := grpc.NewServer(grpc.UnaryInterceptor(withPid(strconv.Itoa(os.Getpid()))))
	healthServer := health.NewServer()
	healthpb.RegisterHealthServer(server, healthServer)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		log.Printf("pid %d draining", os.Getpid())
		// Watchers hear NOT_SERVING first; then the two GOAWAYs.
		healthServer.Shutdown()
		deadline := time.AfterFunc(drain, func() {
			log.Printf("pid %d drain deadline: stopping", os.Getpid())
			server.Stop()
		})
		server.GracefulStop()
		deadline.Stop()
	}()
	log.Printf("pid %d listening on :%s", os.Getpid(), port)
	if err := server.Serve(ln); err != nil {
		log.Fatalf("serve: %v", err)
	}
	log.Printf("pid %d exiting", os.Getpid())
}

func probe(port string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "127.0.0.1:"+port, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		os.Exit(1)
	}
	defer conn.Close()
	answer, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || answer.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		os.Exit(1)
	}
}

func main() {
	probeOnly := flag.Bool("probe", false, "ask the health service through the port; exit 0 when SERVING")
	flag.Parse()
	port := env("PORT", "8080")
	if *probeOnly {
		probe(port)
		return
	}
	seconds, err := strconv.Atoi(env("DRAIN_SECONDS", "5"))
	if err != nil || seconds < 0 {
		log.Fatalf("DRAIN_SECONDS must be a whole number of seconds, got %q", os.Getenv("DRAIN_SECONDS"))
	}
	serve(port, time.Duration(seconds)*time.Second)
}
