// The syscall edge of reuseport-lab: what Node's core cannot do on every
// version we support.
//
//   listenReusePort(host, port, backlog) -> fd
//       A listening TCP socket with SO_REUSEADDR and SO_REUSEPORT, non-blocking
//       and close-on-exec, ready for `server.listen({ fd })`. Node only has
//       `listen({ reusePort })` from v22.12, and Node 20 silently ignores it.
//   sdNotify(socketPath, state) -> undefined
//       One datagram to systemd's $NOTIFY_SOCKET. Node core cannot send
//       AF_UNIX datagrams.
//   inspectSocket(fd) -> { listening, reusePort, type, family, address, port }
//       What an inherited fd really is (LISTEN_FDS, tests).
//   steerReusePort(fd, index) -> undefined
//       Attaches a one-instruction classic BPF program (`ret index`) to the
//       SO_REUSEPORT group fd belongs to: every new connection of the group
//       goes to the socket at that index (server/steer.ts explains the
//       group's order). Unprivileged; Linux >= 4.5.
//   clearReusePortSteering(fd) -> boolean
//       Detaches the group's program, if any (true when one was removed):
//       the kernel's hash spreads connections again. Linux >= 5.3.
//   takeSocketError(fd) -> string | null
//       The error the kernel holds for a socket (SO_ERROR), by errno name
//       (ECONNRESET), and clears it. libuv reports a reset that arrives
//       together with the connection's last data as a plain EOF and never
//       reads the error; this is how a client still learns it was reset.
//   acceptQueueLength(fd) -> number
//       Connections the kernel has completed for a listener and nobody has
//       accepted yet (TCP_INFO on a listening socket).
//   acceptPending(fd, max) -> number[]
//       Accepts up to `max` of those at once, without waiting, and returns
//       their fds (non-blocking, close-on-exec). Node's event loop accepts
//       one connection per listener per turn; server/accept.ts says why
//       that is too few under load.
//   new ListenerOffer(path, fd, onTaken) / offer.close()
//       Offers a listening socket to newer servers: a unix stream socket at
//       `path` (mode 0600) answers every connection from a process of the
//       same user with a copy of fd (SCM_RIGHTS), then calls
//       onTaken({ pid, uid, given }). Watched on Node's own event loop.
//   takeListener(path, timeoutMs) -> fd
//       The other end: connects to an offer and returns the fd it sends
//       (close-on-exec). Blocks up to timeoutMs: call it before serving.
//
// Every failure is a JS exception: argument errors are TypeError/RangeError,
// system errors are Error with `code` (errno name), `errno` and `syscall`.
// No path here may crash the process.

#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

// Linux creates sockets non-blocking and close-on-exec in one call; other
// systems (macOS, for a laptop that only runs the Docker harness) get the
// same flags with fcntl.
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

#ifdef __linux__
#include <linux/filter.h>
// Older libc headers lack the constants; the values are Linux's ABI.
#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif
#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF 68
#endif
#endif

namespace {

#ifndef SOCK_CLOEXEC
// A new fd made non-blocking and close-on-exec, or closed and -1 (errno
// kept) when that fails: the two flags Linux sets in the call that makes it.
int NonblockCloexec(int fd) {
  if (fd >= 0 && (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}
#endif

int OpenSocket(int family, int type) {
#ifdef SOCK_CLOEXEC
  return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  return NonblockCloexec(socket(family, type, 0));
#endif
}

// Throws `<syscall> <context>: <CODE> (<strerror>)` with code/errno/syscall
// properties, the shape of Node's own system errors.
void ThrowSystemError(Napi::Env env, int err, const char* syscall,
                      const std::string& context) {
  const char* code = uv_err_name(-err);
  std::string message = std::string(syscall) + " " + context + ": " + code +
                        " (" + std::strerror(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.ThrowAsJavaScriptException();
}

void ThrowType(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
}

void ThrowRange(Napi::Env env, const std::string& message) {
  Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
}

// Reads args[index] as an integer in [min, max]; throws and returns false
// otherwise.
bool ReadInt(const Napi::CallbackInfo& info, size_t index, const char* name,
             int64_t min, int64_t max, int64_t* out) {
  Napi::Env env = info.Env();
  if (info.Length() <= index || !info[index].IsNumber()) {
    ThrowType(env, std::string(name) + " must be a number");
    return false;
  }
  double value = info[index].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(value) || std::trunc(value) != value || value < min ||
      value > max) {
    ThrowRange(env, std::string(name) + " must be an integer from " +
                        std::to_string(min) + " to " + std::to_string(max));
    return false;
  }
  *out = static_cast<int64_t>(value);
  return true;
}

bool ReadString(const Napi::CallbackInfo& info, size_t index, const char* name,
                std::string* out) {
  if (info.Length() <= index || !info[index].IsString()) {
    ThrowType(info.Env(), std::string(name) + " must be a string");
    return false;
  }
  *out = info[index].As<Napi::String>().Utf8Value();
  if (out->find('\0') != std::string::npos) {
    ThrowType(info.Env(), std::string(name) + " must not contain NUL bytes");
    return false;
  }
  return true;
}

// Reads args[0] as a file descriptor.
bool ReadFd(const Napi::CallbackInfo& info, int* fd) {
  int64_t value = 0;
  if (!ReadInt(info, 0, "fd", 0, 2147483647, &value)) return false;
  *fd = static_cast<int>(value);
  return true;
}

// Closes fd on scope exit unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) close(fd_);
  }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

Napi::Value ListenReusePort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host;
  int64_t port = 0;
  int64_t backlog = 0;
  if (!ReadString(info, 0, "host", &host) ||
      !ReadInt(info, 1, "port", 0, 65535, &port) ||
      !ReadInt(info, 2, "backlog", 1, 65535, &backlog)) {
    return env.Undefined();
  }
  std::string where = host + ":" + std::to_string(port);

  // Numeric hosts only: name resolution is the caller's business, and a
  // blocking DNS lookup does not belong on the event loop.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int gai = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(),
                        &hints, &found);
  if (gai != 0) {
    Napi::Error error = Napi::Error::New(
        env, "getaddrinfo " + where + ": " + gai_strerror(gai) +
                 " (host must be a numeric IPv4 or IPv6 address)");
    error.Set("code", Napi::String::New(env, "EINVALIDHOST"));
    error.Set("syscall", Napi::String::New(env, "getaddrinfo"));
    error.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sockaddr_storage address{};
  socklen_t address_length = static_cast<socklen_t>(found->ai_addrlen);
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  int family = found->ai_family;
  freeaddrinfo(found);

  int raw = OpenSocket(family, SOCK_STREAM);
  if (raw < 0) {
    ThrowSystemError(env, errno, "socket", where);
    return env.Undefined();
  }
  FdGuard guard(raw);
  const int on = 1;
  if (setsockopt(raw, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) {
    ThrowSystemError(env, errno, "setsockopt(SO_REUSEADDR)", where);
    return env.Undefined();
  }
  if (setsockopt(raw, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    ThrowSystemError(env, errno, "setsockopt(SO_REUSEPORT)", where);
    return env.Undefined();
  }
  if (bind(raw, reinterpret_cast<sockaddr*>(&address), address_length) != 0) {
    ThrowSystemError(env, errno, "bind", where);
    return env.Undefined();
  }
  if (listen(raw, static_cast<int>(backlog)) != 0) {
    ThrowSystemError(env, errno, "listen", where);
    return env.Undefined();
  }
  return Napi::Number::New(env, guard.Release());
}

Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  std::string state;
  if (!ReadString(info, 0, "socketPath", &path) ||
      !ReadString(info, 1, "state", &state)) {
    return env.Undefined();
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // "@name" is an abstract socket: a leading NUL, and the length counts
  // exactly the name (no trailing NUL).
  bool abstract = !path.empty() && path[0] == '@';
  if (path.empty() || (path[0] != '/' && !abstract)) {
    ThrowType(env, "socketPath must be an absolute path or an @abstract name, got '" + path + "'");
    return env.Undefined();
  }
  if (path.size() >= sizeof address.sun_path) {
    ThrowRange(env, "socketPath is longer than " +
                        std::to_string(sizeof address.sun_path - 1) + " bytes");
    return env.Undefined();
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  if (abstract) address.sun_path[0] = '\0';
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                            path.size() + (abstract ? 0 : 1));

  int raw = OpenSocket(AF_UNIX, SOCK_DGRAM);
  if (raw < 0) {
    ThrowSystemError(env, errno, "socket", path);
    return env.Undefined();
  }
  FdGuard guard(raw);
  ssize_t sent = sendto(raw, state.data(), state.size(), MSG_NOSIGNAL,
                        reinterpret_cast<sockaddr*>(&address), length);
  if (sent < 0) {
    ThrowSystemError(env, errno, "sendto", path);
    return env.Undefined();
  }
  return env.Undefined();
}

Napi::Value InspectSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ReadFd(info, &fd)) return env.Undefined();
  std::string where = "fd " + std::to_string(fd);

  int type = 0;
  socklen_t size = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0) {
    ThrowSystemError(env, errno, "getsockopt(SO_TYPE)", where);
    return env.Undefined();
  }
  int listening = 0;
  size = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0) {
    ThrowSystemError(env, errno, "getsockopt(SO_ACCEPTCONN)", where);
    return env.Undefined();
  }
  int reuse_port = 0;
  size = sizeof reuse_port;
  if (getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &reuse_port, &size) != 0) {
    ThrowSystemError(env, errno, "getsockopt(SO_REUSEPORT)", where);
    return env.Undefined();
  }
  sockaddr_storage address{};
  socklen_t address_length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0) {
    ThrowSystemError(env, errno, "getsockname", where);
    return env.Undefined();
  }

  Napi::Object result = Napi::Object::New(env);
  result.Set("listening", Napi::Boolean::New(env, listening != 0));
  result.Set("reusePort", Napi::Boolean::New(env, reuse_port != 0));
  result.Set("type", Napi::String::New(env, type == SOCK_STREAM  ? "stream"
                                            : type == SOCK_DGRAM ? "dgram"
                                                                 : "other"));
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&address);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    result.Set("family", Napi::String::New(env, "IPv4"));
    result.Set("address", Napi::String::New(env, text));
    result.Set("port", Napi::Number::New(env, ntohs(in->sin_port)));
  } else if (address.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    result.Set("family", Napi::String::New(env, "IPv6"));
    result.Set("address", Napi::String::New(env, text));
    result.Set("port", Napi::Number::New(env, ntohs(in6->sin6_port)));
  } else if (address.ss_family == AF_UNIX) {
    result.Set("family", Napi::String::New(env, "unix"));
  } else {
    result.Set("family", Napi::String::New(env, "other"));
  }
  return result;
}

Napi::Value SteerReusePort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t index = 0;
  if (!ReadFd(info, &fd) || !ReadInt(info, 1, "index", 0, 65535, &index)) {
    return env.Undefined();
  }
  std::string where = "fd " + std::to_string(fd);
#ifdef __linux__
  // The whole program: return the index. An index past the group's end
  // makes the kernel fall back to its hash.
  sock_filter code[] = {{BPF_RET | BPF_K, 0, 0, static_cast<uint32_t>(index)}};
  sock_fprog program{1, code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof program) != 0) {
    ThrowSystemError(env, errno, "setsockopt(SO_ATTACH_REUSEPORT_CBPF)", where);
  }
#else
  ThrowSystemError(env, ENOPROTOOPT, "setsockopt(SO_ATTACH_REUSEPORT_CBPF)", where + " (Linux only)");
#endif
  return env.Undefined();
}

Napi::Value ClearReusePortSteering(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ReadFd(info, &fd)) return env.Undefined();
  std::string where = "fd " + std::to_string(fd);
#ifdef __linux__
  // The kernel wants an int-sized value even though it reads none: with
  // length 0 it answers EINVAL.
  int unused = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &unused, sizeof unused) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);  // nothing attached
    ThrowSystemError(env, errno, "setsockopt(SO_DETACH_REUSEPORT_BPF)", where);
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
#else
  ThrowSystemError(env, ENOPROTOOPT, "setsockopt(SO_DETACH_REUSEPORT_BPF)", where + " (Linux only)");
  return env.Undefined();
#endif
}

Napi::Value TakeSocketError(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ReadFd(info, &fd)) return env.Undefined();
  int pending = 0;
  socklen_t size = sizeof pending;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &size) != 0) {
    ThrowSystemError(env, errno, "getsockopt(SO_ERROR)", "fd " + std::to_string(fd));
    return env.Undefined();
  }
  if (pending == 0) return env.Null();
  return Napi::String::New(env, uv_err_name(-pending));
}

Napi::Value AcceptQueueLength(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  if (!ReadFd(info, &fd)) return env.Undefined();
#ifdef __linux__
  // For a listener, Linux reports its accept queue in tcpi_unacked.
  tcp_info tcp{};
  socklen_t size = sizeof tcp;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &tcp, &size) != 0) {
    ThrowSystemError(env, errno, "getsockopt(TCP_INFO)", "fd " + std::to_string(fd));
    return env.Undefined();
  }
  if (tcp.tcpi_state != TCP_LISTEN) {
    ThrowType(env, "fd " + std::to_string(fd) + " is not a listening TCP socket");
    return env.Undefined();
  }
  return Napi::Number::New(env, tcp.tcpi_unacked);
#else
  ThrowSystemError(env, ENOPROTOOPT, "getsockopt(TCP_INFO)", "fd " + std::to_string(fd) + " (Linux only)");
  return env.Undefined();
#endif
}

// Accepts one connection of a non-blocking listener, as non-blocking and
// close-on-exec; -1 with errno set when there is none (EAGAIN) or on error.
int AcceptOne(int fd) {
#ifdef SOCK_CLOEXEC
  return accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
  return NonblockCloexec(accept(fd, nullptr, nullptr));
#endif
}

Napi::Value AcceptPending(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int64_t max = 0;
  if (!ReadFd(info, &fd) || !ReadInt(info, 1, "max", 1, 65535, &max)) return env.Undefined();
  // accept() on a blocking listener with nothing queued would block Node's
  // event loop: refuse one instead.
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) {
    ThrowSystemError(env, errno, "fcntl(F_GETFL)", "fd " + std::to_string(fd));
    return env.Undefined();
  }
  if ((flags & O_NONBLOCK) == 0) {
    ThrowType(env, "fd " + std::to_string(fd) + " is a blocking socket; acceptPending needs a non-blocking listener");
    return env.Undefined();
  }
  Napi::Array accepted = Napi::Array::New(env);
  uint32_t count = 0;
  while (count < max) {
    int peer = AcceptOne(fd);
    if (peer >= 0) {
      accepted.Set(count++, Napi::Number::New(env, peer));
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;  // a signal; a client that gave up while queued
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;     // the queue is empty
    // Out of fds, or fd is no listener: what was accepted is returned (it
    // must not leak); with nothing accepted the error is the caller's.
    if (count == 0) {
      ThrowSystemError(env, errno, "accept", "fd " + std::to_string(fd));
      return env.Undefined();
    }
    break;
  }
  return accepted;
}

// Fills a sockaddr_un for a filesystem path; throws and returns false when it does not fit.
bool UnixAddress(Napi::Env env, const std::string& path, sockaddr_un* address, socklen_t* length) {
  if (path.empty() || path[0] != '/') {
    ThrowType(env, "path must be absolute, got '" + path + "'");
    return false;
  }
  if (path.size() >= sizeof address->sun_path) {
    ThrowRange(env, "path is longer than " + std::to_string(sizeof address->sun_path - 1) + " bytes: " + path);
    return false;
  }
  *address = sockaddr_un{};
  address->sun_family = AF_UNIX;
  std::memcpy(address->sun_path, path.data(), path.size());
  *length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

// One byte of payload carries the fd: a stream socket sends no ancillary
// data alone.
const char kHandoffByte = 'L';

// Sends fd over a connected unix socket; returns errno or 0.
int SendFd(int socket_fd, int fd) {
  char payload = kHandoffByte;
  iovec io{&payload, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &fd, sizeof(int));
  return sendmsg(socket_fd, &message, MSG_NOSIGNAL) == 1 ? 0 : errno;
}

// Offers a listening socket on a unix socket, watched with uv_poll on
// Node's loop. Every accepted peer of our own uid gets a copy of the fd;
// a peer of another uid gets nothing.
class ListenerOffer : public Napi::ObjectWrap<ListenerOffer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ListenerOffer", {InstanceMethod("close", &ListenerOffer::Close)});
  }

  explicit ListenerOffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ListenerOffer>(info) {
    Napi::Env env = info.Env();
    std::string path;
    int64_t fd = 0;
    if (!ReadString(info, 0, "path", &path) || !ReadInt(info, 1, "fd", 0, 2147483647, &fd)) return;
    if (info.Length() < 3 || !info[2].IsFunction()) {
      ThrowType(env, "onTaken must be a function");
      return;
    }
    sockaddr_un address{};
    socklen_t length = 0;
    // Bound under a temporary name, then renamed: a peer never finds the
    // path before it listens.
    std::string temporary = path + ".tmp";
    if (!UnixAddress(env, temporary, &address, &length)) return;
    int raw = OpenSocket(AF_UNIX, SOCK_STREAM);
    if (raw < 0) {
      ThrowSystemError(env, errno, "socket", path);
      return;
    }
    FdGuard guard(raw);
    unlink(temporary.c_str());
    if (bind(raw, reinterpret_cast<sockaddr*>(&address), length) != 0) {
      ThrowSystemError(env, errno, "bind", temporary);
      return;
    }
    if (chmod(temporary.c_str(), 0600) != 0 || listen(raw, 8) != 0 || rename(temporary.c_str(), path.c_str()) != 0) {
      int saved = errno;
      unlink(temporary.c_str());
      ThrowSystemError(env, saved, "listen", path);
      return;
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &poll_, raw) != 0) {
      unlink(path.c_str());
      Napi::Error::New(env, "cannot watch " + path + " on the event loop").ThrowAsJavaScriptException();
      return;
    }
    poll_.data = this;
    uv_poll_start(&poll_, UV_READABLE, OnReadable);
    control_fd_ = guard.Release();
    listener_fd_ = static_cast<int>(fd);
    path_ = path;
    on_taken_ = Napi::Persistent(info[2].As<Napi::Function>());
    // Kept alive by the poll until close(): a dropped JS handle must not stop the offer.
    Ref();
  }

  ~ListenerOffer() override {
    if (control_fd_ >= 0) close(control_fd_);
  }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<ListenerOffer*>(handle->data);
    if (status < 0 || self->closing_) return;
    for (;;) {
#ifdef SOCK_CLOEXEC
      int peer = accept4(self->control_fd_, nullptr, nullptr, SOCK_CLOEXEC);
#else
      int peer = accept(self->control_fd_, nullptr, nullptr);
#endif
      if (peer < 0) return;  // EAGAIN: nothing more queued (or an error the next wake retries)
      FdGuard guard(peer);
      int peer_pid = 0;
      int peer_uid = -1;
      bool given = false;
#ifdef SO_PEERCRED
      ucred credentials{};
      socklen_t size = sizeof credentials;
      if (getsockopt(peer, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0) {
        peer_pid = credentials.pid;
        peer_uid = static_cast<int>(credentials.uid);
      }
#endif
      if (peer_uid == static_cast<int>(geteuid())) given = SendFd(peer, self->listener_fd_) == 0;
      self->Report(peer_pid, peer_uid, given);
    }
  }

  void Report(int pid, int uid, bool given) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Object taken = Napi::Object::New(env);
    taken.Set("pid", Napi::Number::New(env, pid));
    taken.Set("uid", Napi::Number::New(env, uid));
    taken.Set("given", Napi::Boolean::New(env, given));
    on_taken_.MakeCallback(Value(), {taken});
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (control_fd_ >= 0 && !closing_) {
      closing_ = true;
      unlink(path_.c_str());
      uv_poll_stop(&poll_);
      // The fd is closed once libuv is done with the handle.
      uv_close(reinterpret_cast<uv_handle_t*>(&poll_), [](uv_handle_t* handle) {
        auto* self = static_cast<ListenerOffer*>(handle->data);
        close(self->control_fd_);
        self->control_fd_ = -1;
        self->Unref();
      });
    }
    return info.Env().Undefined();
  }

  uv_poll_t poll_{};
  bool closing_ = false;
  int control_fd_ = -1;
  int listener_fd_ = -1;
  std::string path_;
  Napi::FunctionReference on_taken_;
};

Napi::Value TakeListener(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  int64_t timeout = 0;
  if (!ReadString(info, 0, "path", &path) || !ReadInt(info, 1, "timeoutMs", 0, 600000, &timeout)) {
    return env.Undefined();
  }
  sockaddr_un address{};
  socklen_t length = 0;
  if (!UnixAddress(env, path, &address, &length)) return env.Undefined();
  int raw = socket(AF_UNIX, SOCK_STREAM, 0);
  if (raw < 0) {
    ThrowSystemError(env, errno, "socket", path);
    return env.Undefined();
  }
  FdGuard guard(raw);
  if (connect(raw, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    ThrowSystemError(env, errno, "connect", path);
    return env.Undefined();
  }
  pollfd wait{raw, POLLIN, 0};
  int ready = poll(&wait, 1, static_cast<int>(timeout));
  if (ready <= 0) {
    ThrowSystemError(env, ready == 0 ? ETIMEDOUT : errno, "poll", path + " (no listener offered)");
    return env.Undefined();
  }
  char payload = 0;
  iovec io{&payload, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
#ifdef MSG_CMSG_CLOEXEC
  const int flags = MSG_CMSG_CLOEXEC;
#else
  const int flags = 0;
#endif
  ssize_t got = recvmsg(raw, &message, flags);
  if (got < 0) {
    ThrowSystemError(env, errno, "recvmsg", path);
    return env.Undefined();
  }
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (got != 1 || payload != kHandoffByte || header == nullptr || header->cmsg_level != SOL_SOCKET ||
      header->cmsg_type != SCM_RIGHTS || header->cmsg_len != CMSG_LEN(sizeof(int)) ||
      (message.msg_flags & MSG_CTRUNC) != 0) {
    ThrowSystemError(env, EPROTO, "recvmsg", path + " (no listener in the answer)");
    return env.Undefined();
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
#ifndef MSG_CMSG_CLOEXEC
  fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
  return Napi::Number::New(env, fd);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("listenReusePort", Napi::Function::New(env, ListenReusePort, "listenReusePort"));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
  exports.Set("inspectSocket", Napi::Function::New(env, InspectSocket, "inspectSocket"));
  exports.Set("steerReusePort", Napi::Function::New(env, SteerReusePort, "steerReusePort"));
  exports.Set("clearReusePortSteering", Napi::Function::New(env, ClearReusePortSteering, "clearReusePortSteering"));
  exports.Set("takeSocketError", Napi::Function::New(env, TakeSocketError, "takeSocketError"));
  exports.Set("acceptQueueLength", Napi::Function::New(env, AcceptQueueLength, "acceptQueueLength"));
  exports.Set("acceptPending", Napi::Function::New(env, AcceptPending, "acceptPending"));
  exports.Set("ListenerOffer", ListenerOffer::Define(env));
  exports.Set("takeListener", Napi::Function::New(env, TakeListener, "takeListener"));
  return exports;
}

}  // namespace

NODE_API_MODULE(reuseport, Init)
