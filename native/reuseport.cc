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
//   acceptQueueLength(fd) -> number
//       Connections the kernel has completed for a listener and nobody has
//       accepted yet (TCP_INFO on a listening socket).
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
#include <sys/socket.h>
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

int OpenSocket(int family, int type) {
#ifdef SOCK_CLOEXEC
  return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  int fd = socket(family, type, 0);
  if (fd >= 0 && (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("listenReusePort", Napi::Function::New(env, ListenReusePort, "listenReusePort"));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
  exports.Set("inspectSocket", Napi::Function::New(env, InspectSocket, "inspectSocket"));
  exports.Set("steerReusePort", Napi::Function::New(env, SteerReusePort, "steerReusePort"));
  exports.Set("clearReusePortSteering", Napi::Function::New(env, ClearReusePortSteering, "clearReusePortSteering"));
  exports.Set("acceptQueueLength", Napi::Function::New(env, AcceptQueueLength, "acceptQueueLength"));
  return exports;
}

}  // namespace

NODE_API_MODULE(reuseport, Init)
