// The Go proof of concept of seed 004 ("Go Graceful Restart"), with the
// standard library only: SO_REUSEPORT is set through net.ListenConfig's
// Control hook instead of github.com/libp2p/go-reuseport (no module can be
// downloaded here), and SIGTERM runs http.Server.Shutdown, as the seed does.
//
// `server -init` is not in the seed: it makes the same binary PID 1 of an
// image with nothing else in it (go-seed/Dockerfile.static). It starts the
// server as a child and, on SIGHUP, restarts it the seed's way: a new child,
// /healthz through the shared port, then SIGTERM to the old one.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func port() string {
	if p := os.Getenv("PORT"); p != "" {
		return p
	}
	return "8080"
}

// SO_REUSEPORT on Linux (include/uapi/asm-generic/socket.h). The standard
// library's syscall package is frozen and does not name it; x/sys/unix
// does, but no module can be downloaded here.
const soReusePort = 0xf

// listen binds with SO_REUSEPORT, so a new process can bind beside the old one.
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

func serve() {
	ln, err := listen(":" + port())
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "OK. Handled by PID: %d\n", os.Getpid())
	})
	// Not in the seed: a request that takes ?ms=N (at most a minute), for
	// the gallery's long-request lane, as any app has a slow endpoint.
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 60000 {
			http.Error(w, "ms must be a whole number from 0 to 60000", http.StatusBadRequest)
			return
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprintf(w, "OK. Handled by PID: %d\n", os.Getpid())
	})
	server := &http.Server{Handler: mux}
	go func() {
		if err := server.Serve(ln); err != http.ErrServerClosed {
			log.Fatalf("serve: %v", err)
		}
	}()
	log.Printf("pid %d listening on :%s", os.Getpid(), port())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	// Closes the listener, then waits for requests in flight, as in the seed.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		log.Printf("pid %d shutdown: %v", os.Getpid(), err)
	}
	log.Printf("pid %d exiting", os.Getpid())
}

func start(self string) *exec.Cmd {
	cmd := exec.Command(self)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatalf("start: %v", err)
	}
	return cmd
}

// healthy polls /healthz through the shared port, as the seed's restart
// script does (so the old server may be the one that answers).
func healthy() bool {
	client := http.Client{Timeout: time.Second}
	for i := 0; i < 100; i++ {
		if resp, err := client.Get("http://127.0.0.1:" + port() + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func supervise() {
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	current := start(self)
	exited := make(chan *exec.Cmd, 4)
	watch := func(cmd *exec.Cmd) { go func() { cmd.Wait(); exited <- cmd }() }
	watch(current)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	for {
		select {
		case sig := <-signals:
			if sig != syscall.SIGHUP {
				current.Process.Signal(syscall.SIGTERM)
				for cmd := range exited {
					if cmd == current {
						return
					}
				}
			}
			next := start(self)
			watch(next)
			if !healthy() {
				log.Printf("new server %d not healthy; stopping it", next.Process.Pid)
				next.Process.Signal(syscall.SIGTERM)
				continue
			}
			current.Process.Signal(syscall.SIGTERM)
			current = next
		case cmd := <-exited:
			if cmd == current {
				log.Fatalf("server %d exited", cmd.Process.Pid)
			}
		}
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-init" {
		supervise()
		return
	}
	serve()
}
