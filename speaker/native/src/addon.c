/*
 * Herald's native addon: what Node cannot do from JavaScript (ADR 0004).
 *  - AF_PACKET sockets bound to one interface and ethertype, for ARP and NDP: full
 *    Ethernet frames in and out, so the speaker sees a received packet's IPv6 hop
 *    limit (RFC 4861 7.1.1 drops NDP whose hop limit is not 255). Link-layer multicast
 *    memberships (solicited-node groups) belong to such a socket and end with it.
 *  - TCP_MD5SIG (RFC 2385), IP_MINTTL/IPV6_MINHOPCOUNT and IP_TTL (GTSM, RFC 5082)
 *    on a socket Node already owns.
 * All entry points run on the main thread; errors are thrown as JS Errors shaped like
 * Node's system errors (message with context, code, errno, syscall).
 */
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define RECV_BUDGET 64          /* frames per wake-up, so a flood cannot starve the loop */
#define RECV_BUF 65536          /* a GRO'd veth frame can be this large */

static const napi_type_tag PSOCK_TAG = {0x6865726c64706b74ULL, 0x0000000000000001ULL};

typedef struct {
  int fd;                 /* -1 once closed */
  int ifindex;            /* the interface bound to */
  char ifname[IFNAMSIZ];
  napi_env env;
  napi_ref self;          /* strong while open: an open socket is never collected */
  napi_ref cb;            /* (err, frame) => void, set while polling */
  napi_async_context actx;
  uv_poll_t poll;
  int polling;            /* poll handle initialised */
  int handle_open;        /* uv_close not yet completed */
  int hook;               /* env cleanup hook registered */
  int finalized;
  unsigned char buf[RECV_BUF];
} psock;

/* Throws an Error like Node's system errors: "<context>: <strerror>", code "E...", errno, syscall. */
static void throw_errno(napi_env env, int err, const char *syscall, const char *fmt, ...) {
  char ctx[192], msg[320], name[32];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx, sizeof ctx, fmt, ap);
  va_end(ap);
  snprintf(msg, sizeof msg, "%s: %s", ctx, strerror(err));
  uv_err_name_r(-err, name, sizeof name);
  napi_value code, text, error, num, sys;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_create_int32(env, -err, &num); /* negative, as in Node's own system errors */
  napi_set_named_property(env, error, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
}

#define ARGS(n)                                                                     \
  size_t argc = (n);                                                                \
  napi_value argv[n];                                                               \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL; \
  if (argc < (n)) {                                                                 \
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "missing arguments");            \
    return NULL;                                                                    \
  }

/* An integer argument in [min, max]; throws and returns -1 otherwise. */
static int get_int(napi_env env, napi_value v, const char *what, int min, int max, int *out) {
  double d;
  char msg[96];
  /* The range test comes first: it rejects NaN and infinities before the cast. */
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= min && d <= max) || d != (double)(long long)d) {
    snprintf(msg, sizeof msg, "%s must be an integer from %d to %d", what, min, max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return -1;
  }
  *out = (int)d;
  return 0;
}

static int get_ifname(napi_env env, napi_value v, char out[IFNAMSIZ]) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len == 0 || len >= IFNAMSIZ) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "ifname must be a string of 1 to 15 bytes");
    return -1;
  }
  napi_get_value_string_utf8(env, v, out, IFNAMSIZ, &len);
  return 0;
}

typedef struct {
  int ifindex, mtu, hwtype;
  short flags;
  unsigned char mac[6];
} ifinfo;

/* Reads an interface's index, MAC, MTU and flags; on failure returns errno and names the ioctl. */
static int query_if(const char *ifname, ifinfo *out, const char **op) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;
  struct ifreq r;
  *op = "socket";
  if (fd < 0) return errno;
  memset(&r, 0, sizeof r);
  strncpy(r.ifr_name, ifname, IFNAMSIZ - 1);
  *op = "SIOCGIFINDEX";
  if (ioctl(fd, SIOCGIFINDEX, &r) < 0) goto fail;
  out->ifindex = r.ifr_ifindex;
  *op = "SIOCGIFHWADDR";
  if (ioctl(fd, SIOCGIFHWADDR, &r) < 0) goto fail;
  out->hwtype = r.ifr_hwaddr.sa_family;
  memcpy(out->mac, r.ifr_hwaddr.sa_data, 6);
  *op = "SIOCGIFMTU";
  if (ioctl(fd, SIOCGIFMTU, &r) < 0) goto fail;
  out->mtu = r.ifr_mtu;
  *op = "SIOCGIFFLAGS";
  if (ioctl(fd, SIOCGIFFLAGS, &r) < 0) goto fail;
  out->flags = r.ifr_flags;
  close(fd);
  return 0;
fail:
  err = errno;
  close(fd);
  return err;
}

static napi_value mac_buffer(napi_env env, const unsigned char mac[6]) {
  napi_value b;
  napi_create_buffer_copy(env, 6, mac, NULL, &b);
  return b;
}

static void set_bool(napi_env env, napi_value obj, const char *key, int v) {
  napi_value b;
  napi_get_boolean(env, v != 0, &b);
  napi_set_named_property(env, obj, key, b);
}

static void set_int(napi_env env, napi_value obj, const char *key, int v) {
  napi_value n;
  napi_create_int32(env, v, &n);
  napi_set_named_property(env, obj, key, n);
}

/* interfaceInfo(ifname) -> { ifindex, mac, mtu, hwtype, flags: { up, broadcast, loopback, multicast } } */
static napi_value InterfaceInfo(napi_env env, napi_callback_info info) {
  ARGS(1);
  char name[IFNAMSIZ];
  ifinfo i;
  const char *op;
  if (get_ifname(env, argv[0], name) < 0) return NULL;
  int err = query_if(name, &i, &op);
  if (err) return throw_errno(env, err, op, "interface %s", name), NULL;
  napi_value obj, flags;
  napi_create_object(env, &obj);
  set_int(env, obj, "ifindex", i.ifindex);
  napi_set_named_property(env, obj, "mac", mac_buffer(env, i.mac));
  set_int(env, obj, "mtu", i.mtu);
  set_int(env, obj, "hwtype", i.hwtype);
  napi_create_object(env, &flags);
  set_bool(env, flags, "up", i.flags & IFF_UP);
  set_bool(env, flags, "broadcast", i.flags & IFF_BROADCAST);
  set_bool(env, flags, "loopback", i.flags & IFF_LOOPBACK);
  set_bool(env, flags, "multicast", i.flags & IFF_MULTICAST);
  napi_set_named_property(env, obj, "flags", flags);
  return obj;
}

/* --- packet sockets --------------------------------------------------------------- */

static void psock_poll_closed(uv_handle_t *h) {
  psock *s = h->data;
  s->handle_open = 0;
  if (s->finalized) free(s);
}

/* Releases the fd and the poll handle; safe to call more than once and from teardown. */
static void psock_release(psock *s) {
  if (s->polling && s->handle_open && !uv_is_closing((uv_handle_t *)&s->poll))
    uv_close((uv_handle_t *)&s->poll, psock_poll_closed); /* removes the fd from epoll first */
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}

static void psock_env_cleanup(void *arg) {
  psock *s = arg;
  s->hook = 0;
  psock_release(s);
}

static void psock_finalize(napi_env env, void *data, void *hint) {
  psock *s = data;
  (void)hint;
  if (s->hook) napi_remove_env_cleanup_hook(env, psock_env_cleanup, s);
  s->hook = 0;
  psock_release(s);
  s->finalized = 1;
  if (!s->handle_open) free(s);
}

static napi_value throw_closed(napi_env env, const char *op, const char *ifname) {
  char msg[64];
  snprintf(msg, sizeof msg, "%s on %s: socket is closed", op, ifname);
  napi_throw_error(env, "ERR_SOCKET_CLOSED", msg);
  return NULL;
}

static psock *get_psock(napi_env env, napi_value v) {
  bool ok = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, v, &PSOCK_TAG, &ok) != napi_ok || !ok ||
      napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "not a packet socket handle");
    return NULL;
  }
  return p;
}

/* Hands one result to JS; an exception from the callback is reported like any uncaught one. */
static int deliver(psock *s, napi_value err, napi_value frame) {
  napi_env env = s->env;
  napi_value cb, recv, argv[2] = {err, frame}, result;
  if (s->cb == NULL || napi_get_reference_value(env, s->cb, &cb) != napi_ok || cb == NULL) return -1;
  napi_get_global(env, &recv); /* napi_make_callback needs an object as `this` */
  if (napi_make_callback(env, s->actx, recv, cb, 2, argv, &result) == napi_pending_exception) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    napi_fatal_exception(env, ex);
    return -1;
  }
  return 0;
}

static void deliver_errno(psock *s, int err, const char *syscall) {
  napi_value ex, undef;
  throw_errno(s->env, err, syscall, "receive on %s", s->ifname);
  napi_get_and_clear_last_exception(s->env, &ex);
  napi_get_undefined(s->env, &undef);
  deliver(s, ex, undef);
}

static void psock_readable(uv_poll_t *h, int status, int events) {
  psock *s = h->data;
  napi_handle_scope scope;
  (void)events;
  if (s->fd < 0) return;
  napi_open_handle_scope(s->env, &scope);
  if (status < 0) {
    /* libuv reports EPOLLERR as UV_EBADF and stops the handle. On a packet socket it
       means a pending socket error (ENETDOWN when the link goes down): read and clear
       it, poll again and report it. Only a broken fd stops receiving. */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) {
      deliver_errno(s, -status, "epoll_wait");
    } else {
      int rc = uv_poll_start(h, UV_READABLE, psock_readable);
      deliver_errno(s, err, "recvfrom");
      if (rc < 0) deliver_errno(s, -rc, "uv_poll_start");
    }
    napi_close_handle_scope(s->env, scope);
    return;
  }
  for (int i = 0; i < RECV_BUDGET && s->fd >= 0; i++) {
    struct sockaddr_ll from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(s->fd, s->buf, sizeof s->buf, MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) { /* e.g. ENETDOWN when the link goes down: report, keep polling */
      deliver_errno(s, errno, "recvfrom");
      break;
    }
    if (from.sll_pkttype == PACKET_OUTGOING) continue; /* our own host's transmissions */
    if ((size_t)n > sizeof s->buf) {                   /* far larger than any ARP/NDP message */
      deliver_errno(s, EMSGSIZE, "recvfrom");
      continue;
    }
    napi_value frame, null;
    napi_create_buffer_copy(s->env, (size_t)n, s->buf, NULL, &frame);
    napi_get_null(s->env, &null);
    if (deliver(s, null, frame) < 0) break;
  }
  napi_close_handle_scope(s->env, scope);
}

/* packetOpen(ifname, ethertype, filter: Buffer | null) -> { handle, ifindex, mac } */
static napi_value PacketOpen(napi_env env, napi_callback_info info) {
  ARGS(3);
  char name[IFNAMSIZ];
  int ethertype;
  ifinfo i;
  const char *op;
  void *filter = NULL;
  size_t filter_len = 0;
  napi_valuetype ft;
  if (get_ifname(env, argv[0], name) < 0) return NULL;
  if (get_int(env, argv[1], "ethertype", 0x0600, 0xffff, &ethertype) < 0) return NULL;
  napi_typeof(env, argv[2], &ft);
  if (ft != napi_null && ft != napi_undefined &&
      (napi_get_buffer_info(env, argv[2], &filter, &filter_len) != napi_ok || filter_len == 0 ||
       filter_len % sizeof(struct sock_filter) != 0 || filter_len / sizeof(struct sock_filter) > BPF_MAXINSNS)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "filter must be a Buffer of 8-byte BPF instructions");
    return NULL;
  }
  int err = query_if(name, &i, &op);
  if (err) return throw_errno(env, err, op, "open AF_PACKET on %s", name), NULL;
  if (i.hwtype != ARPHRD_ETHER) {
    char msg[96];
    snprintf(msg, sizeof msg, "open AF_PACKET on %s: not an Ethernet interface (ARPHRD %d)", name, i.hwtype);
    napi_throw_error(env, "ERR_NOT_ETHERNET", msg);
    return NULL;
  }
  /* Protocol 0 receives nothing until bind(), so no frame from another interface or
     ethertype slips in before the filter and the binding are in place. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket", "open AF_PACKET on %s", name), NULL;
  struct sock_fprog prog = {(unsigned short)(filter_len / sizeof(struct sock_filter)), filter};
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons((uint16_t)ethertype);
  sll.sll_ifindex = i.ifindex;
  if (filter && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) op = "setsockopt(SO_ATTACH_FILTER)";
  else if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) op = "bind";
  else op = NULL;
  if (op) {
    err = errno;
    close(fd);
    return throw_errno(env, err, op, "open AF_PACKET on %s", name), NULL;
  }

  psock *s = calloc(1, sizeof *s);
  napi_value handle, obj;
  if (!s) {
    close(fd);
    return throw_errno(env, ENOMEM, "calloc", "open AF_PACKET on %s", name), NULL;
  }
  s->fd = fd;
  s->ifindex = i.ifindex;
  s->env = env;
  memcpy(s->ifname, name, IFNAMSIZ);
  if (napi_create_external(env, s, psock_finalize, NULL, &handle) != napi_ok) {
    close(fd);
    free(s);
    return NULL;
  }
  napi_type_tag_object(env, handle, &PSOCK_TAG);
  napi_create_reference(env, handle, 1, &s->self);
  napi_add_env_cleanup_hook(env, psock_env_cleanup, s);
  s->hook = 1;
  napi_create_object(env, &obj);
  napi_set_named_property(env, obj, "handle", handle);
  set_int(env, obj, "ifindex", i.ifindex);
  napi_set_named_property(env, obj, "mac", mac_buffer(env, i.mac));
  return obj;
}

/* packetRecvStart(handle, cb): polls the fd and calls cb(err, frame); replaces an earlier cb. */
static napi_value PacketRecvStart(napi_env env, napi_callback_info info) {
  ARGS(2);
  psock *s = get_psock(env, argv[0]);
  napi_valuetype t;
  if (!s) return NULL;
  if (s->fd < 0) return throw_closed(env, "receive", s->ifname);
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "callback must be a function");
    return NULL;
  }
  if (s->cb) napi_delete_reference(env, s->cb);
  napi_create_reference(env, argv[1], 1, &s->cb);
  if (s->polling) return NULL;
  uv_loop_t *loop;
  napi_value name;
  napi_get_uv_event_loop(env, &loop);
  int err = uv_poll_init(loop, &s->poll, s->fd);
  if (err) return throw_errno(env, -err, "uv_poll_init", "receive on %s", s->ifname), NULL;
  s->poll.data = s;
  s->polling = s->handle_open = 1;
  napi_create_string_utf8(env, "HeraldPacketSocket", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->actx);
  err = uv_poll_start(&s->poll, UV_READABLE, psock_readable);
  if (err) return throw_errno(env, -err, "uv_poll_start", "receive on %s", s->ifname), NULL;
  return NULL;
}

/* packetSend(handle, frame): one complete Ethernet frame out of the bound interface. */
static napi_value PacketSend(napi_env env, napi_callback_info info) {
  ARGS(2);
  psock *s = get_psock(env, argv[0]);
  void *data;
  size_t len;
  ssize_t n;
  if (!s) return NULL;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "frame must be a Buffer");
    return NULL;
  }
  if (s->fd < 0) return throw_closed(env, "send", s->ifname);
  if (len < ETH_HLEN) {
    char msg[96];
    snprintf(msg, sizeof msg, "send on %s: frame of %zu bytes is shorter than an Ethernet header", s->ifname, len);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return NULL;
  }
  do n = send(s->fd, data, len, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, errno, "send", "send on %s", s->ifname), NULL;
  return NULL;
}

/* packetMembership(handle, mac, add): PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP of the
   link-layer multicast group `mac` (6 bytes, group bit set) on the bound interface. The
   kernel keeps the membership on the socket (dev_mc_add, counted per socket and shared
   with the kernel's own references to the same group) and drops it when the socket is
   closed, by us or by the process dying. Dropping from a closed socket does nothing: the
   membership is already gone. */
static napi_value PacketMembership(napi_env env, napi_callback_info info) {
  ARGS(3);
  psock *s = get_psock(env, argv[0]);
  unsigned char *mac;
  size_t len;
  bool add;
  if (!s) return NULL;
  if (napi_get_buffer_info(env, argv[1], (void **)&mac, &len) != napi_ok || len != ETH_ALEN || !(mac[0] & 0x01)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "mac must be a 6-byte Buffer holding a multicast MAC (group bit set)");
    return NULL;
  }
  if (napi_get_value_bool(env, argv[2], &add) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "add must be a boolean");
    return NULL;
  }
  const char *op = add ? "PACKET_ADD_MEMBERSHIP" : "PACKET_DROP_MEMBERSHIP";
  if (s->fd < 0) return add ? throw_closed(env, op, s->ifname) : NULL;
  struct packet_mreq mr;
  memset(&mr, 0, sizeof mr);
  mr.mr_ifindex = s->ifindex;
  mr.mr_type = PACKET_MR_MULTICAST;
  mr.mr_alen = ETH_ALEN;
  memcpy(mr.mr_address, mac, ETH_ALEN);
  if (setsockopt(s->fd, SOL_PACKET, add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, &mr, sizeof mr) < 0)
    return throw_errno(env, errno, "setsockopt", "%s %02x:%02x:%02x:%02x:%02x:%02x on %s", op, mac[0], mac[1], mac[2],
                       mac[3], mac[4], mac[5], s->ifname),
           NULL;
  return NULL;
}

/* packetClose(handle): idempotent. */
static napi_value PacketClose(napi_env env, napi_callback_info info) {
  ARGS(1);
  psock *s = get_psock(env, argv[0]);
  if (!s || s->fd < 0) return NULL;
  if (s->hook) napi_remove_env_cleanup_hook(env, psock_env_cleanup, s);
  s->hook = 0;
  psock_release(s);
  if (s->cb) napi_delete_reference(env, s->cb);
  if (s->actx) napi_async_destroy(env, s->actx);
  s->cb = NULL;
  s->actx = NULL;
  napi_delete_reference(env, s->self); /* now collectable; the finalizer frees s */
  s->self = NULL;
  return NULL;
}

/* --- TCP options (RFC 2385, RFC 5082) ----------------------------------------------- */

/* The socket's address family, or -1 with an exception thrown. */
static int sock_family(napi_env env, int fd, const char *what) {
  int family;
  socklen_t len = sizeof family;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0)
    return throw_errno(env, errno, "getsockopt", "%s on fd %d", what, fd), -1;
  if (family != AF_INET && family != AF_INET6)
    return throw_errno(env, EAFNOSUPPORT, "getsockopt", "%s on fd %d", what, fd), -1;
  return family;
}

/* setTcpMd5(fd, peer, key | null): null or "" removes the peer's key (RFC 2385). */
static napi_value SetTcpMd5(napi_env env, napi_callback_info info) {
  ARGS(3);
  int fd, family;
  char peer[INET6_ADDRSTRLEN + 1];
  size_t len = 0;
  struct in_addr a4;
  struct in6_addr a6;
  struct tcp_md5sig md;
  napi_valuetype kt;
  if (get_int(env, argv[0], "fd", 0, 0x7fffffff, &fd) < 0) return NULL;
  if (napi_get_value_string_utf8(env, argv[1], peer, sizeof peer, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "peer must be a string");
    return NULL;
  }
  int v4 = inet_pton(AF_INET, peer, &a4) == 1;
  if (!v4 && inet_pton(AF_INET6, peer, &a6) != 1) {
    napi_throw_type_error(env, "ERR_INVALID_IP_ADDRESS", "peer must be an IPv4 or IPv6 address without zone");
    return NULL;
  }
  memset(&md, 0, sizeof md);
  napi_typeof(env, argv[2], &kt);
  if (kt != napi_null && kt != napi_undefined) {
    if (napi_get_value_string_utf8(env, argv[2], NULL, 0, &len) != napi_ok || len > TCP_MD5SIG_MAXKEYLEN) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "key must be a string of at most 80 bytes, or null");
      return NULL;
    }
    char key[TCP_MD5SIG_MAXKEYLEN + 1];
    napi_get_value_string_utf8(env, argv[2], key, sizeof key, &len);
    memcpy(md.tcpm_key, key, len);
    md.tcpm_keylen = (uint16_t)len;
  }
  if ((family = sock_family(env, fd, "TCP_MD5SIG")) < 0) return NULL;
  if (family == AF_INET && !v4)
    return throw_errno(env, EAFNOSUPPORT, "setsockopt", "TCP_MD5SIG for %s on IPv4 fd %d", peer, fd), NULL;
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&md.tcpm_addr;
    sin->sin_family = AF_INET;
    sin->sin_addr = a4;
  } else {
    /* An IPv6 socket keys IPv4 peers by their v4-mapped address. */
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&md.tcpm_addr;
    sin6->sin6_family = AF_INET6;
    if (v4) {
      sin6->sin6_addr.s6_addr[10] = sin6->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&sin6->sin6_addr.s6_addr[12], &a4, 4);
    } else {
      sin6->sin6_addr = a6;
    }
  }
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md, sizeof md) < 0 && !(errno == ENOENT && md.tcpm_keylen == 0))
    return throw_errno(env, errno, "setsockopt", "TCP_MD5SIG for %s on fd %d", peer, fd), NULL;
  return NULL;
}

/* Sets an IPv4 option, and on an IPv6 socket the IPv6 one too (an IPv6 socket may carry
   v4-mapped connections, which the IPv4 option governs). */
static napi_value set_ttl_opt(napi_env env, napi_callback_info info, int min, int v4opt, int v6opt,
                              const char *name) {
  ARGS(2);
  int fd, ttl, family;
  if (get_int(env, argv[0], "fd", 0, 0x7fffffff, &fd) < 0) return NULL;
  if (get_int(env, argv[1], "ttl", min, 255, &ttl) < 0) return NULL;
  if ((family = sock_family(env, fd, name)) < 0) return NULL;
  if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, v6opt, &ttl, sizeof ttl) < 0)
    return throw_errno(env, errno, "setsockopt", "%s %d on fd %d", name, ttl, fd), NULL;
  if (setsockopt(fd, IPPROTO_IP, v4opt, &ttl, sizeof ttl) < 0)
    return throw_errno(env, errno, "setsockopt", "%s %d on fd %d", name, ttl, fd), NULL;
  return NULL;
}

/* setMinTtl(fd, ttl): GTSM (RFC 5082) drops segments that arrive with a lower TTL; 0 disables. */
static napi_value SetMinTtl(napi_env env, napi_callback_info info) {
  return set_ttl_opt(env, info, 0, IP_MINTTL, IPV6_MINHOPCOUNT, "IP_MINTTL");
}

/* setTtl(fd, ttl): the TTL (hop limit) of segments this socket sends. */
static napi_value SetTtl(napi_env env, napi_callback_info info) {
  return set_ttl_opt(env, info, 1, IP_TTL, IPV6_UNICAST_HOPS, "IP_TTL");
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"interfaceInfo", NULL, InterfaceInfo, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetOpen", NULL, PacketOpen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetRecvStart", NULL, PacketRecvStart, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetSend", NULL, PacketSend, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetMembership", NULL, PacketMembership, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetClose", NULL, PacketClose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTcpMd5", NULL, SetTcpMd5, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMinTtl", NULL, SetMinTtl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTtl", NULL, SetTtl, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
