// TCP_INFO of a connected socket, for the connect phase's kernel truth.
//
// Why native: a connect phase stamped in JavaScript ends when the event loop gets round to the
// socket's 'connect' callback, after whatever else the loop had queued (another exchange's close
// callbacks, a scrape): 0.3-0.6 ms on loopback where the handshake took tens of microseconds.
// Right after the handshake, before any data, the kernel's smoothed RTT holds exactly one sample,
// its own SYN to SYN-ACK time (microseconds), with no event loop in it. Node does not expose
// getsockopt. A retransmitted SYN makes that sample the last SYN's alone (Karn; or the timestamp
// option's), not the connect's time: then there is no answer and the caller keeps its own stamps.
//
// JavaScript API (see src/net/tcp-info.ts):
//   handshakeRttUs(fd) -> number | null   tcpi_rtt of an established socket that retransmitted
//       nothing, else null; call it before the first write. Throws errno errors (`code`).
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>

static napi_value throw_errno(napi_env env, int err) {
  napi_value code, message, error;
  const char *name = err == EBADF ? "EBADF" : err == ENOTSOCK ? "ENOTSOCK" : err == ENOPROTOOPT ? "ENOPROTOOPT" : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_throw(env, error);
  return NULL;
}

static napi_value handshake_rtt_us(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "handshakeRttUs(fd): fd must be a non-negative integer");
    return NULL;
  }
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  memset(&ti, 0, sizeof ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return throw_errno(env, errno);
  if (ti.tcpi_state != TCP_ESTABLISHED || ti.tcpi_rtt == 0 || ti.tcpi_total_retrans != 0) {
    napi_get_null(env, &result);
    return result;
  }
  napi_create_uint32(env, ti.tcpi_rtt, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "handshakeRttUs", NAPI_AUTO_LENGTH, handshake_rtt_us, NULL, &fn);
  napi_set_named_property(env, exports, "handshakeRttUs", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
