/*
 * The test backend: an HTTP server that names its app, node and pod, so a test can see
 * which backend on which node answered (`app1@node-1`). Built static (no libc in the
 * image: the image is this one file) and kept to what a probe needs: every request, any
 * method and path, gets 200 with the body `APP@NODE\n` and headers X-Node, X-Pod.
 *
 * Environment (a Pod sets NODE_NAME and POD_NAME from the downward API):
 *   PORT       TCP port, default 8080
 *   NODE_NAME  default: the host name
 *   POD_NAME   default: the host name (a Pod's host name is its name)
 *   APP_NAME   default: POD_NAME up to its ReplicaSet hash (app1-5d9c7b-x2x7z -> app1)
 *
 * One connection at a time, each bounded by a 2 s receive timeout and answered with
 * `Connection: close`: enough for probes at 10 ms intervals, and a stalled client
 * cannot hold the server for longer than the timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static char app[128], node[128], pod[128];

static void copy_env(char *dst, size_t n, const char *name, const char *fallback) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0') v = fallback;
  snprintf(dst, n, "%s", v);
}

/* A Deployment's pod name is NAME-HASH-SUFFIX: drop the last two dash-separated parts. */
static void app_from_pod(char *dst, size_t n, const char *podname) {
  snprintf(dst, n, "%s", podname);
  for (int i = 0; i < 2; i++) {
    char *dash = strrchr(dst, '-');
    if (dash == NULL || dash == dst) return;
    *dash = '\0';
  }
}

/* PID 1 in a container gets no default action for SIGTERM: exit on it explicitly. */
static void on_term(int sig) { _exit(sig == SIGTERM || sig == SIGINT ? 0 : 1); }

static int listen_on(int port) {
  /* Dual stack where the pod has IPv6, plain IPv4 where it does not. */
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1, zero = 0;
  if (fd >= 0) {
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any};
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0 && listen(fd, 128) == 0) return fd;
    close(fd);
  }
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {htonl(INADDR_ANY)}};
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&a4, sizeof a4) != 0 || listen(fd, 128) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void serve(int c) {
  struct timeval tv = {.tv_sec = 2};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  /* Read until the end of the request head; a body, if any, is ignored. */
  char req[8192];
  size_t got = 0;
  while (got < sizeof req - 1) {
    ssize_t r = read(c, req + got, sizeof req - 1 - got);
    if (r <= 0) return;
    got += (size_t)r;
    req[got] = '\0';
    if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL) break;
  }
  char body[300];
  int blen = snprintf(body, sizeof body, "%s@%s\n", app, node);
  char head[1024];
  int hlen = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      "X-Node: %s\r\nX-Pod: %s\r\nConnection: close\r\n\r\n",
                      blen, node, pod);
  const int head_only = strncmp(req, "HEAD ", 5) == 0;
  if (write(c, head, (size_t)hlen) != hlen) return;
  if (!head_only && write(c, body, (size_t)blen) != blen) return;
}

int main(void) {
  char host[128] = "unknown";
  gethostname(host, sizeof host - 1);
  copy_env(node, sizeof node, "NODE_NAME", host);
  copy_env(pod, sizeof pod, "POD_NAME", host);
  char derived[128];
  app_from_pod(derived, sizeof derived, pod);
  copy_env(app, sizeof app, "APP_NAME", derived);

  const char *p = getenv("PORT");
  long port = p != NULL && *p != '\0' ? strtol(p, NULL, 10) : 8080;
  if (port < 1 || port > 65535) {
    fprintf(stderr, "echo-server: PORT %s is not a TCP port\n", p);
    return 2;
  }
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  signal(SIGPIPE, SIG_IGN);
  int fd = listen_on((int)port);
  if (fd < 0) {
    fprintf(stderr, "echo-server: listen on port %ld: %s\n", port, strerror(errno));
    return 1;
  }
  fprintf(stderr, "echo-server: %s@%s (pod %s) listening on port %ld\n", app, node, pod, port);
  for (;;) {
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) continue;
      fprintf(stderr, "echo-server: accept: %s\n", strerror(errno));
      return 1;
    }
    serve(c);
    close(c);
  }
}
