// Raw ICMP / ICMPv6 socket for Node with kernel receive timestamps.
//
// Why native: an RTT is only as good as its two timestamps. raw-socket stamps replies in
// JavaScript, after the event loop gets round to them (hundreds of microseconds, milliseconds
// under load). Here the kernel stamps each datagram on arrival (SO_TIMESTAMPNS, wall clock), and
// the send stamp is taken on the same clock immediately before sendmsg. Per-packet TTL / hop limit, ToS / traffic
// class and source address travel as ancillary data, so one socket serves every probe.
//
// Two kinds of socket: raw (needs CAP_NET_RAW; sees every ICMP packet of the host, filtered here)
// and Linux "ping" datagram sockets (SOCK_DGRAM + IPPROTO_ICMP[V6]; no capability, allowed to the
// groups in net.ipv4.ping_group_range). On a ping socket the kernel owns the echo identifier (the
// socket's bound "port": we bind it to the identifier we want), computes the checksum, delivers
// only echo replies carrying that identifier (no IP header), and queues ICMP errors about our
// probes on the error queue (IP_RECVERR / IPV6_RECVERR, read with MSG_ERRQUEUE; the router's
// address is the extended error's SO_EE_OFFENDER). A third, openUdp, is a connected UDP socket read
// the same way, for DNS over UDP: its answer is stamped by the kernel too, and a port unreachable
// arrives on its error queue.
//
// Receiving: because every datagram carries its kernel stamp, reading late loses nothing, so a
// wake-up reads many datagrams per syscall (recvmmsg) straight into a block of memory JavaScript
// owns and hands over only their count: no object, string or buffer is made per reply (allocation
// per probe was a good part of the engine's CPU, GC 18 % of a profile). Layout: `batchLayout`.
//
// JavaScript API (see src/net/icmp/native.ts):
//   openBatch(family, identifier, memory, onBatch, onError) -> handle   identifier < 0: raw socket;
//       else a ping socket bound to it. onBatch(count): `count` datagrams are in `memory`.
//   read(handle): reads (and hands over) everything queued now
//   send(handle, buffer, address, ttl, tos, source) -> bigint wall-clock send stamp (ns)
//   setDontFragment(handle, bool)
//   close(handle)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdbool.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

// The batch block JavaScript hands to openBatch (its byte offsets, exported as `batchLayout`):
// BATCH_PACKETS kernel stamps (int64 ns, wall clock), then BATCH_FIELDS int32s per datagram (see
// enum field), then 32 address bytes per datagram (source, then a queued error's destination: 16
// bytes each, IPv4 in the first 4), then the datagrams themselves, one slot each.
#define BATCH_PACKETS 64
#define BATCH_FIELDS 8
#define BATCH_META (BATCH_PACKETS * 8)
#define BATCH_ADDRESSES (BATCH_META + BATCH_PACKETS * BATCH_FIELDS * 4)
#define BATCH_DATA (BATCH_ADDRESSES + BATCH_PACKETS * 32)
enum field { F_OFFSET, F_LENGTH, F_HOP_LIMIT, F_ERROR_TYPE, F_ERROR_CODE, F_FAMILY, F_DESTINATION_FAMILY };
// A slot holds any reply to what we sent plus an IP header (raw IPv4) and any ICMP error, which
// quotes at most 576 (IPv4) or 1280 (IPv6) bytes; sends of larger probes grow it (js_send).
#define MIN_SLOT 2048
#define SLOT_HEADROOM 128
// The smallest block openBatch takes: room for one slot as long as the longest datagram.
#define MAX_DATAGRAM 65536
#define MIN_BYTES (BATCH_DATA + MAX_DATAGRAM + SLOT_HEADROOM)
// Reads per wake-up before yielding to the event loop (a flood must not starve timers).
#define MAX_ROUNDS 16
#define CONTROL_SIZE 256

typedef struct {
  int fd;
  int family;
  int df;
  int closing;
  int datagram;
  uv_poll_t poll;
  napi_env env;
  napi_ref self;
  napi_ref on_batch;
  napi_ref on_error;
  // The batch block: JavaScript's ArrayBuffer, held by `memory_ref`.
  napi_ref memory_ref;
  unsigned char *memory;
  size_t memory_size;
  size_t slot;
  napi_async_context async_context;
  struct mmsghdr msgs[BATCH_PACKETS];
  struct iovec iovs[BATCH_PACKETS];
  struct sockaddr_storage names[BATCH_PACKETS];
  char controls[BATCH_PACKETS][CONTROL_SIZE];
} icmp_socket;

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, "ERR_VANTAGE_ICMP", "N-API call failed: " #call); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static int64_t ts_ns(const struct timespec *ts) { return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec; }

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts_ns(&ts);
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_value code, msg, error;
  napi_create_string_utf8(env, strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_value errno_value;
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "code", code);
  napi_throw(env, error);
  return NULL;
}

// What the JS handle points at. It outlives the socket: close() empties it, and the garbage
// collector frees it, so a handle used after close() is refused instead of reading freed memory.
#define HANDLE_MAGIC 0x766e7470u
typedef struct {
  uint32_t magic;
  icmp_socket *sock;
} handle_box;

static void finalize_box(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  handle_box *box = (handle_box *)data;
  box->magic = 0;
  free(box);
}

static handle_box *unbox(napi_env env, napi_value value) {
  handle_box *box = NULL;
  if (napi_get_value_external(env, value, (void **)&box) != napi_ok || box == NULL || box->magic != HANDLE_MAGIC) {
    napi_throw_type_error(env, "ERR_VANTAGE_ICMP", "not an ICMP socket handle");
    return NULL;
  }
  return box;
}

static icmp_socket *unwrap(napi_env env, napi_value value) {
  handle_box *box = unbox(env, value);
  if (box == NULL) return NULL;
  if (box->sock == NULL) {
    throw_errno(env, "ICMP socket is closed", EBADF);
    return NULL;
  }
  return box->sock;
}

// The arguments of a call whose first is a socket handle: the socket, or NULL with a JS exception pending.
static icmp_socket *socket_call(napi_env env, napi_callback_info info, size_t argc, napi_value *argv) {
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, "ERR_VANTAGE_ICMP", "N-API call failed: napi_get_cb_info");
    return NULL;
  }
  return unwrap(env, argv[0]);
}

static void call_js(icmp_socket *sock, napi_ref fn_ref, size_t argc, napi_value *argv) {
  napi_env env = sock->env;
  napi_value fn, recv;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &recv);  // make_callback needs an object as receiver
  napi_value ignored;
  // make_callback runs queued microtasks afterwards, as any I/O callback would.
  napi_make_callback(env, sock->async_context, recv, fn, argc, argv, &ignored);
  // A throw in the callback must surface as an uncaught exception now, not from the next
  // unrelated call into this addon.
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

static void report_error(icmp_socket *sock, int err) {
  napi_env env = sock->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[2];
  napi_create_int32(env, err, &argv[0]);
  napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &argv[1]);
  call_js(sock, sock->on_error, 2, argv);
  napi_close_handle_scope(env, scope);
}

// Copies a socket address's IP into 16 bytes (IPv4 in the first 4); returns its family, 4 or 6 (0: none).
static int32_t address_bytes(const struct sockaddr *sa, unsigned char *out) {
  if (sa->sa_family == AF_INET) {
    memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    return 4;
  }
  if (sa->sa_family == AF_INET6) {
    memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    return 6;
  }
  return 0;
}

// Errors a ping socket's pending sk_err yields once (the kernel sets it beside each queued ICMP
// error): they describe an earlier probe, not this call, and the error queue has the details.
static bool stale_icmp_error(int err) {
  return err == EHOSTUNREACH || err == ENETUNREACH || err == ECONNREFUSED || err == EHOSTDOWN || err == ENONET ||
         err == EPROTO || err == EMSGSIZE || err == EACCES || err == EREMOTEIO || err == ETIMEDOUT || err == EPERM;
}

// Describes datagram `i` of the last recvmmsg as entry `*count` of the batch block; returns false
// for one to pass over (a queued error of local origin: EMSGSIZE before sending has no probe to match).
static bool describe(icmp_socket *sock, int flags, unsigned i, uint32_t *count) {
  struct msghdr *msg = &sock->msgs[i].msg_hdr;
  // The kernel stamps arrivals on the wall clock; sends are stamped on the same clock (js_send),
  // so an RTT is a difference of one clock: no conversion between clocks (whose offset drifts
  // while the clock is slewed) can skew it. Queued errors keep the stamp of the ICMP error's arrival.
  int64_t stamp = 0;
  int32_t hop_limit = -1;
  const struct sock_extended_err *ee = NULL;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      stamp = ts_ns(&ts);
    } else if ((c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) ||
               (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)) {
      memcpy(&hop_limit, CMSG_DATA(c), sizeof hop_limit);
    } else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
               (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
      ee = (const struct sock_extended_err *)CMSG_DATA(c);
    }
  }
  if ((flags & MSG_ERRQUEUE) && (ee == NULL || (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6)))
    return false;
  uint32_t n = (*count)++;
  int32_t *meta = (int32_t *)(sock->memory + BATCH_META) + n * BATCH_FIELDS;
  unsigned char *addresses = sock->memory + BATCH_ADDRESSES + n * 32;
  // With SO_TIMESTAMPNS every datagram carries its stamp; the read time is a last resort.
  ((int64_t *)sock->memory)[n] = stamp != 0 ? stamp : clock_ns(CLOCK_REALTIME);
  meta[F_OFFSET] = (int32_t)(BATCH_DATA + i * sock->slot);
  // A datagram longer than its slot (none of ours: see MIN_SLOT) arrives cut to it.
  meta[F_LENGTH] = (int32_t)sock->msgs[i].msg_len;
  meta[F_HOP_LIMIT] = hop_limit;
  meta[F_ERROR_TYPE] = -1;
  meta[F_ERROR_CODE] = 0;
  meta[F_DESTINATION_FAMILY] = 0;
  if (flags & MSG_ERRQUEUE) {
    meta[F_ERROR_TYPE] = ee->ee_type;
    meta[F_ERROR_CODE] = ee->ee_code;
    // The router that sent the error; msg_name holds the probe's own destination.
    meta[F_FAMILY] = address_bytes(SO_EE_OFFENDER(ee), addresses);
    meta[F_DESTINATION_FAMILY] = address_bytes((struct sockaddr *)msg->msg_name, addresses + 16);
  } else {
    meta[F_FAMILY] = address_bytes((struct sockaddr *)msg->msg_name, addresses);
  }
  return true;
}

// Reads what one recvmmsg gets of a queue into the batch block; returns how many datagrams it
// described or -errno. `*more`: every slot was filled, the queue may hold more.
static int read_batch(icmp_socket *sock, int flags, uint32_t *count, bool *more) {
  unsigned slots = (unsigned)((sock->memory_size - BATCH_DATA) / sock->slot);
  if (slots > BATCH_PACKETS) slots = BATCH_PACKETS;
  for (unsigned i = 0; i < slots; i++) {
    sock->iovs[i].iov_base = sock->memory + BATCH_DATA + i * sock->slot;
    sock->iovs[i].iov_len = sock->slot;
    sock->msgs[i].msg_hdr = (struct msghdr){.msg_name = &sock->names[i], .msg_namelen = sizeof sock->names[i], .msg_iov = &sock->iovs[i], .msg_iovlen = 1, .msg_control = sock->controls[i], .msg_controllen = CONTROL_SIZE};
  }
  *count = 0;
  *more = false;
  for (int skipped = 0; skipped < BATCH_PACKETS;) {
    int n = recvmmsg(sock->fd, sock->msgs, slots, flags | MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      if (errno == EINTR || (sock->datagram && stale_icmp_error(errno))) {
        skipped++;
        continue;
      }
      return -errno;
    }
    for (int i = 0; i < n; i++) describe(sock, flags, (unsigned)i, count);
    *more = (unsigned)n == slots;
    // Read but all passed over: the queue may hold more.
    if (*count > 0 || !*more) return (int)*count;
    skipped += n;
  }
  return (int)*count;
}

// Hands one batch to JavaScript as its count.
static void deliver(icmp_socket *sock, uint32_t count) {
  napi_env env = sock->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value arg;
  napi_create_uint32(env, count, &arg);
  call_js(sock, sock->on_batch, 1, &arg);
  napi_close_handle_scope(env, scope);
}

// Reads the socket, a batch per recvmmsg, each handed to JavaScript as soon as it is read (its
// memory is reused for the next), for at most `rounds` batches of each queue. A ping socket's
// error queue is read first. Returns 0, or the errno that ended the reading.
static int read_queued(icmp_socket *sock, int rounds) {
  int failure = 0;
  bool errors_left = sock->datagram, replies_left = true;
  for (int round = 0; round < rounds && !sock->closing && failure == 0 && (errors_left || replies_left); round++) {
    uint32_t count = 0;
    if (errors_left) {
      int rc = read_batch(sock, MSG_ERRQUEUE, &count, &errors_left);
      // The kernel also sets sk_err for each queued error; clear it, or the next send fails with it.
      int pending = 0;
      socklen_t len = sizeof pending;
      getsockopt(sock->fd, SOL_SOCKET, SO_ERROR, &pending, &len);
      if (rc < 0) failure = -rc;
      if (count > 0) deliver(sock, count);
    }
    if (failure != 0 || sock->closing || !replies_left) continue;
    int rc = read_batch(sock, 0, &count, &replies_left);
    if (rc < 0) failure = -rc;
    if (count > 0) deliver(sock, count);
  }
  return failure;
}

// A receive error stops the socket and goes to onError (the engine then opens a new one).
static void fail(icmp_socket *sock, int err) {
  uv_poll_stop(&sock->poll);
  report_error(sock, err);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  icmp_socket *sock = (icmp_socket *)handle->data;
  (void)events;
  // libuv reports POLLERR as UV_EBADF and stops the handle. On a ping socket POLLERR means queued
  // ICMP errors (normally seen as POLLPRI, SO_SELECT_ERR_QUEUE): read them, then poll again.
  if (status < 0 && !(sock->datagram && status == UV_EBADF)) {
    fail(sock, -status);
    return;
  }
  int failure = read_queued(sock, MAX_ROUNDS);
  if (sock->closing) return;
  if (failure != 0) fail(sock, failure);
  else if (status < 0) uv_poll_start(&sock->poll, UV_READABLE | UV_PRIORITIZED, on_readable);
}

// read(handle): reads everything queued now, before the caller judges deadlines: a reply the
// kernel stamped in time must not wait for the next poll phase (a wake-up reads at most
// MAX_ROUNDS batches) while its probe is called a timeout.
static napi_value js_read(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  icmp_socket *sock = socket_call(env, info, 1, argv);
  if (sock == NULL) return NULL;
  // Bounded all the same: the receive buffer (size_buffers) holds fewer datagrams than this.
  int failure = read_queued(sock, 1 << 16);
  if (failure != 0 && !sock->closing) fail(sock, failure);
  return NULL;
}

static int set_filter(int fd, int family) {
  if (family == 4) {
    // ICMP_FILTER: a set bit drops that type. Keep echo reply, unreachable, time exceeded,
    // parameter problem; drop the rest (echo requests, including our own on loopback).
    uint32_t mask = ~((1U << ICMP_ECHOREPLY) | (1U << ICMP_DEST_UNREACH) | (1U << ICMP_TIME_EXCEEDED) | (1U << ICMP_PARAMETERPROB));
    return setsockopt(fd, SOL_RAW, ICMP_FILTER, &mask, sizeof mask);
  }
  struct icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &filter);
  return setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
}

// Large buffers so a burst of replies from thousands of targets is not dropped (best effort:
// capped by net.core.rmem_max unless we may force it).
static void size_buffers(int fd) {
  int bufsize = 4 * 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof bufsize) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof bufsize) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
}

// Wraps an open, configured socket in a JS handle and starts polling it. `memory` is the batch
// block from JavaScript; `callbacks` are (onBatch, onError). Takes ownership of fd.
static napi_value wrap_socket(napi_env env, int fd, int family, int datagram, size_t slot, napi_value memory,
                              napi_value *callbacks) {
  void *block = NULL;
  size_t block_size = 0;
  if (napi_get_arraybuffer_info(env, memory, &block, &block_size) != napi_ok || block_size < MIN_BYTES) {
    close(fd);
    napi_throw_range_error(env, "ERR_VANTAGE_ICMP", "the batch memory must be an ArrayBuffer of at least batchLayout.minBytes");
    return NULL;
  }
  size_buffers(fd);
  icmp_socket *sock = calloc(1, sizeof *sock);
  handle_box *box = calloc(1, sizeof *box);
  if (sock == NULL || box == NULL) {
    close(fd);
    free(sock);
    free(box);
    napi_throw_error(env, "ERR_VANTAGE_ICMP", "out of memory");
    return NULL;
  }
  sock->fd = fd;
  sock->family = family;
  sock->datagram = datagram;
  sock->df = -1;
  sock->env = env;
  sock->memory = block;
  sock->memory_size = block_size;
  sock->slot = slot;
  box->magic = HANDLE_MAGIC;
  box->sock = sock;
  napi_value external, resource_name;
  CHECK(napi_create_external(env, box, finalize_box, NULL, &external));
  CHECK(napi_create_reference(env, external, 1, &sock->self));
  CHECK(napi_create_reference(env, memory, 1, &sock->memory_ref));
  CHECK(napi_create_reference(env, callbacks[0], 1, &sock->on_batch));
  CHECK(napi_create_reference(env, callbacks[1], 1, &sock->on_error));
  CHECK(napi_create_string_utf8(env, "VantageIcmpSocket", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(napi_async_init(env, NULL, resource_name, &sock->async_context));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &sock->poll, fd);
  sock->poll.data = sock;
  // UV_PRIORITIZED: a ping socket's queued ICMP errors raise POLLPRI (SO_SELECT_ERR_QUEUE).
  uv_poll_start(&sock->poll, datagram ? UV_READABLE | UV_PRIORITIZED : UV_READABLE, on_readable);
  return external;
}

static bool read_family(napi_env env, napi_value value, int32_t *family) {
  if (napi_get_value_int32(env, value, family) != napi_ok || (*family != 4 && *family != 6)) {
    napi_throw_range_error(env, "ERR_VANTAGE_ICMP", "family must be 4 or 6");
    return false;
  }
  return true;
}

// Closes `fd` and throws the error errno holds, naming `what`: -1, for the caller to return.
static int fail_fd(napi_env env, int fd, const char *what) {
  int err = errno;
  close(fd);
  throw_errno(env, what, err);
  return -1;
}

// What each of our datagram sockets sets: the kernel's receive stamps, and ICMP errors about what
// it sent queued on its error queue (IP_RECVERR), raising POLLPRI (SO_SELECT_ERR_QUEUE).
static int stamp_and_queue_errors(int fd, int family) {
  int on = 1;
  int level = family == 4 ? IPPROTO_IP : IPPROTO_IPV6;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SELECT_ERR_QUEUE, &on, sizeof on) < 0 ||
      setsockopt(fd, level, family == 4 ? IP_RECVERR : IPV6_RECVERR, &on, sizeof on) < 0)
    return -1;
  return 0;
}

// A configured raw socket, or -1 with a JS exception pending.
static int raw_fd(napi_env env, int family) {
  int fd = family == 4 ? socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP)
                       : socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return -1;
  }
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 || set_filter(fd, family) < 0 ||
      (family == 6 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on) < 0))
    return fail_fd(env, fd, "setsockopt");
  return fd;
}

// A configured ping socket bound to echo identifier `identifier`, or -1 with a JS exception pending.
static int ping_fd(napi_env env, int family, int32_t identifier) {
  int fd = family == 4 ? socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP)
                       : socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return -1;
  }
  int on = 1;
  int level = family == 4 ? IPPROTO_IP : IPPROTO_IPV6;
  // SO_REUSEADDR: the IPv4 and IPv6 ping sockets share one identifier table; ours share identifiers.
  if (stamp_and_queue_errors(fd, family) < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
      setsockopt(fd, level, family == 4 ? IP_RECVTTL : IPV6_RECVHOPLIMIT, &on, sizeof on) < 0)
    return fail_fd(env, fd, "setsockopt");
  struct sockaddr_storage local;
  memset(&local, 0, sizeof local);
  socklen_t local_len;
  if (family == 4) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&local;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)identifier);
    local_len = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&local;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)identifier);
    local_len = sizeof *sin6;
  }
  if (bind(fd, (struct sockaddr *)&local, local_len) < 0) return fail_fd(env, fd, "bind (echo identifier)");
  return fd;
}

// openBatch(family, identifier, memory, onBatch, onError): a raw socket when the identifier is
// negative, else a ping socket bound to it.
static napi_value js_open_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family = 0, identifier = -1;
  if (!read_family(env, argv[0], &family)) return NULL;
  CHECK(napi_get_value_int32(env, argv[1], &identifier));
  int fd = identifier < 0 ? raw_fd(env, family) : ping_fd(env, family, identifier);
  if (fd < 0) return NULL;
  return wrap_socket(env, fd, family, identifier >= 0, MIN_SLOT, argv[2], argv + 3);
}

static int parse_address(int family, const char *text, struct sockaddr_storage *out, socklen_t *len) {
  memset(out, 0, sizeof *out);
  if (family == 4) {
    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    sin->sin_family = AF_INET;
    *len = sizeof *sin;
    return inet_pton(AF_INET, text, &sin->sin_addr) == 1 ? 0 : -1;
  }
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
  sin6->sin6_family = AF_INET6;
  *len = sizeof *sin6;
  return inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1 ? 0 : -1;
}

// A UDP socket connected to `address`:`port` (the kernel then drops datagrams from anyone else),
// its arrivals stamped and its ICMP errors (port unreachable) queued like a ping socket's: for DNS
// over UDP, whose answer time is then the kernel's, not the event loop's wake-up. -1 with a JS
// exception pending on failure.
static int udp_fd(napi_env env, int family, const char *address, int32_t port) {
  struct sockaddr_storage to;
  socklen_t to_len;
  if (port <= 0 || port > 65535 || parse_address(family, address, &to, &to_len) < 0) {
    napi_throw_range_error(env, "ERR_VANTAGE_ICMP", "openUdp: bad address or port");
    return -1;
  }
  if (family == 4) ((struct sockaddr_in *)&to)->sin_port = htons((uint16_t)port);
  else ((struct sockaddr_in6 *)&to)->sin6_port = htons((uint16_t)port);
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return -1;
  }
  if (stamp_and_queue_errors(fd, family) < 0 || connect(fd, (struct sockaddr *)&to, to_len) < 0)
    return fail_fd(env, fd, "udp socket");
  return fd;
}

// openUdp(family, address, port, memory, onBatch, onError): see udp_fd; `send` with an empty address.
static napi_value js_open_udp(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family = 0, port = 0;
  if (!read_family(env, argv[0], &family)) return NULL;
  char address[INET6_ADDRSTRLEN + 1];
  size_t copied;
  CHECK(napi_get_value_string_utf8(env, argv[1], address, sizeof address, &copied));
  CHECK(napi_get_value_int32(env, argv[2], &port));
  int fd = udp_fd(env, family, address, port);
  if (fd < 0) return NULL;
  // An answer is longer than its query (the ICMP sockets size slots by what they send): any datagram fits.
  return wrap_socket(env, fd, family, 1, MAX_DATAGRAM, argv[3], argv + 4);
}

/* Appends one ancillary-data item at `*used` in `control` (zeroed, 256 bytes: room for all three). */
static void append_cmsg(char *control, size_t *used, int level, int type, const void *data, size_t size) {
  struct cmsghdr *c = (struct cmsghdr *)(control + *used);
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(size);
  memcpy(CMSG_DATA(c), data, size);
  *used += CMSG_SPACE(size);
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  icmp_socket *sock = socket_call(env, info, 6, argv);
  if (sock == NULL) return NULL;
  void *data;
  size_t length;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &length));
  char address[INET6_ADDRSTRLEN + 1], source[INET6_ADDRSTRLEN + 1];
  size_t copied;
  CHECK(napi_get_value_string_utf8(env, argv[2], address, sizeof address, &copied));
  int32_t ttl = 0, tos = 0;
  CHECK(napi_get_value_int32(env, argv[3], &ttl));
  CHECK(napi_get_value_int32(env, argv[4], &tos));
  CHECK(napi_get_value_string_utf8(env, argv[5], source, sizeof source, &copied));

  struct sockaddr_storage to;
  socklen_t to_len = 0;
  // An empty address: the socket's own peer (a connected UDP socket, openUdp).
  if (address[0] != '\0' && parse_address(sock->family, address, &to, &to_len) < 0)
    return throw_errno(env, "send: bad address", EINVAL);
  // Replies are as long as their requests: room for one (and its IP header) in a slot.
  size_t slot = (length + SLOT_HEADROOM + 63) & ~(size_t)63;
  if (slot > sock->slot && BATCH_DATA + slot <= sock->memory_size) sock->slot = slot;

  char control[256];
  memset(control, 0, sizeof control);
  struct iovec iov = {.iov_base = data, .iov_len = length};
  struct msghdr msg = {.msg_name = to_len > 0 ? &to : NULL, .msg_namelen = to_len, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  size_t used = 0;
  int level = sock->family == 4 ? IPPROTO_IP : IPPROTO_IPV6;
  if (ttl > 0) append_cmsg(control, &used, level, sock->family == 4 ? IP_TTL : IPV6_HOPLIMIT, &ttl, sizeof ttl);
  if (tos > 0) append_cmsg(control, &used, level, sock->family == 4 ? IP_TOS : IPV6_TCLASS, &tos, sizeof tos);
  if (source[0] != '\0') {
    if (sock->family == 4) {
      struct in_pktinfo pi;
      memset(&pi, 0, sizeof pi);
      if (inet_pton(AF_INET, source, &pi.ipi_spec_dst) != 1) return throw_errno(env, "send: bad source address", EINVAL);
      append_cmsg(control, &used, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
    } else {
      struct in6_pktinfo pi;
      memset(&pi, 0, sizeof pi);
      if (inet_pton(AF_INET6, source, &pi.ipi6_addr) != 1) return throw_errno(env, "send: bad source address", EINVAL);
      append_cmsg(control, &used, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof pi);
    }
  }
  msg.msg_controllen = used;
  if (used == 0) msg.msg_control = NULL;

  // Wall clock, as the kernel's receive stamps are (see on_readable).
  int64_t stamp = clock_ns(CLOCK_REALTIME);
  ssize_t sent = sendmsg(sock->fd, &msg, MSG_DONTWAIT);
  // A ping socket fails one send with the sk_err an earlier probe's ICMP error left (the kernel
  // clears it as it reports it): that error belongs to the error queue, so send again.
  if (sent < 0 && sock->datagram && stale_icmp_error(errno)) {
    stamp = clock_ns(CLOCK_REALTIME);
    sent = sendmsg(sock->fd, &msg, MSG_DONTWAIT);
  }
  if (sent < 0) return throw_errno(env, "sendmsg", errno);
  napi_value result;
  CHECK(napi_create_bigint_int64(env, stamp, &result));
  return result;
}

// sock->df besides 0 (never DF) and 1 (always): DF while the packet fits (-1: never set).
#define DF_WHILE_IT_FITS 2

static napi_value js_set_dont_fragment(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  icmp_socket *sock = socket_call(env, info, 2, argv);
  if (sock == NULL) return NULL;
  // null: DF while the packet fits the route's MTU (IP_PMTUDISC_WANT, what ping gets by default).
  napi_valuetype type;
  CHECK(napi_typeof(env, argv[1], &type));
  bool on = false;
  if (type != napi_null) CHECK(napi_get_value_bool(env, argv[1], &on));
  int df = type == napi_null ? DF_WHILE_IT_FITS : on;
  if (sock->df == df) return NULL;
  int value = df == DF_WHILE_IT_FITS ? IP_PMTUDISC_WANT : df ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
  int rc = sock->family == 4 ? setsockopt(sock->fd, IPPROTO_IP, IP_MTU_DISCOVER, &value, sizeof value)
                             : setsockopt(sock->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &value, sizeof value);
  if (rc < 0) return throw_errno(env, "setsockopt(MTU_DISCOVER)", errno);
  sock->df = df;
  return NULL;
}

static void on_closed(uv_handle_t *handle) {
  icmp_socket *sock = (icmp_socket *)handle->data;
  // Destroyed here, not in close(): close() may run inside this socket's own callback.
  napi_async_destroy(sock->env, sock->async_context);
  free(sock);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  handle_box *box = unbox(env, argv[0]);
  if (box == NULL || box->sock == NULL) return NULL;
  icmp_socket *sock = box->sock;
  box->sock = NULL;
  sock->closing = 1;
  uv_poll_stop(&sock->poll);
  close(sock->fd);
  napi_delete_reference(env, sock->on_batch);
  napi_delete_reference(env, sock->on_error);
  napi_delete_reference(env, sock->self);
  napi_delete_reference(env, sock->memory_ref);
  sock->memory = NULL;
  uv_close((uv_handle_t *)&sock->poll, on_closed);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value layout, value;
  CHECK(napi_create_object(env, &layout));
  const struct {
    const char *name;
    uint32_t value;
  } fields[] = {
      {"packets", BATCH_PACKETS},
      {"fields", BATCH_FIELDS},
      {"meta", BATCH_META},
      {"addresses", BATCH_ADDRESSES},
      {"data", BATCH_DATA},
      {"minBytes", MIN_BYTES},
      {"bytes", BATCH_DATA + BATCH_PACKETS * MIN_SLOT},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    CHECK(napi_create_uint32(env, fields[i].value, &value));
    CHECK(napi_set_named_property(env, layout, fields[i].name, value));
  }
  CHECK(napi_set_named_property(env, exports, "batchLayout", layout));
  napi_property_descriptor props[] = {
      {"openBatch", NULL, js_open_batch, NULL, NULL, NULL, napi_default, NULL},
      {"openUdp", NULL, js_open_udp, NULL, NULL, NULL, napi_default, NULL},
      {"read", NULL, js_read, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"setDontFragment", NULL, js_set_dont_fragment, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
