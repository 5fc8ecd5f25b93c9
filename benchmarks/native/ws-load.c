/*
 * A native WebSocket load client: clients/load.mjs's protocol (JSON lines: connect, track,
 * report, exit on stdin; ready, connected, progress, report on stdout) for the kinds `ws-raw`
 * and `ws-throughline`, on one epoll loop in C.
 *
 * Why it exists: on a 2-core machine one Node load client spends about 10 µs of its core per
 * delivery, so at N = 1,000 and 100 msg/s it is saturated and its own queue is the latency tail
 * (benchmarks/results/ws-p99-repeats.md). This client costs a fraction of that, so the latency
 * of the server under test is what is measured (scenarios/latency-unix.mjs).
 *
 * Usage: ws-load KIND URL. With BENCH_UNIX_SOCKET set, every connection dials that Unix socket
 * (the URL then gives only the request path); else the URL's 127.0.0.1:port over TCP.
 * Latency: each text frame holding the benchmark payload ({"s":…,"t":…}, t in CLOCK_MONOTONIC ms,
 * lib/payload.mjs) counts now − t into the same log buckets as lib/hist.mjs.
 * Throughline frames: a probe is echoed and a heartbeat is sent every heartbeatMs of the hello,
 * as clients/ws.mjs does; pings are answered with pongs.
 * Not handled, because no server under test sends them: fragmented messages (continuation
 * frames are skipped) and compression (the servers run without permessage-deflate).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* lib/hist.mjs: bucket b holds [MIN_MS·G^b, MIN_MS·G^(b+1)). */
#define GROWTH 1.02
#define MIN_MS 0.001
#define BUCKETS 2048

typedef struct {
  int fd;
  int open;
  long long last; /* newest seq received */
  long hb_ms;     /* Throughline heartbeat interval from the hello (0: none) */
  double next_hb;
  unsigned char *buf;
  size_t len, cap;
} conn_t;

static conn_t *conns;
static int nconns, open_count, throughline;
static char host_port[64], req_path[2048];
static const char *unix_path;
static long long delivered;
static int latency;
static unsigned long long counts[BUCKETS];
static double hist_max, hist_sum;
static unsigned long long hist_n;
static double track_cpu, track_at;
/* Progress lines every progress_ms while tracking (0: none). */
static long progress_ms;
static double next_progress;
#define STDIN_TAG 0xffffffffu

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

static void record(double ms) {
  double v = ms < MIN_MS ? MIN_MS : ms;
  int b = (int)floor(log(v / MIN_MS) / log(GROWTH));
  if (b >= BUCKETS) b = BUCKETS - 1;
  counts[b]++;
  hist_n++;
  hist_sum += v;
  if (v > hist_max) hist_max = v;
}

static long long min_seq(void) {
  long long min = -1;
  for (int i = 0; i < nconns; i++)
    if (conns[i].open && (min < 0 || conns[i].last < min)) min = conns[i].last;
  return min < 0 ? 0 : min;
}

/* A masked client text frame (mask key 0, so the payload goes as is). */
static void send_text(conn_t *c, const char *s) {
  size_t n = strlen(s);
  unsigned char f[6 + 125];
  if (n > 125) return;
  f[0] = 0x81;
  f[1] = 0x80 | (unsigned char)n;
  memset(f + 2, 0, 4);
  memcpy(f + 6, s, n);
  if (write(c->fd, f, n + 6) < 0) { /* a broken connection reports through its read */ }
}

static void on_text(conn_t *c, const char *p, size_t n, double t) {
  const char *s = memmem(p, n, "\"s\":", 4);
  const char *tt = s ? memmem(s, n - (s - p), ",\"t\":", 5) : NULL;
  if (tt) {
    long long seq = strtoll(s + 4, NULL, 10);
    if (seq > c->last) c->last = seq;
    delivered++;
    if (latency) record(t - strtod(tt + 5, NULL));
    return;
  }
  if (!throughline || n < 16) return;
  if (!memcmp(p, "{\"type\":\"probe\"", 15)) {
    const char *q = memmem(p, n, "\"seq\":", 6);
    char out[96];
    if (q) {
      snprintf(out, sizeof out, "{\"type\":\"probe\",\"seq\":%lld}", strtoll(q + 6, NULL, 10));
      send_text(c, out);
    }
  } else if (!memcmp(p, "{\"type\":\"hello\"", 15)) {
    const char *q = memmem(p, n, "\"heartbeatMs\":", 14);
    if (q) {
      c->hb_ms = strtol(q + 14, NULL, 10);
      c->next_hb = now_ms() + c->hb_ms;
    }
  }
}

/* Parses the complete frames in c->buf. Returns -1 on a close frame. */
static int parse(conn_t *c, double t) {
  size_t off = 0;
  while (c->len - off >= 2) {
    unsigned char *f = c->buf + off;
    size_t h = 2;
    unsigned long long n = f[1] & 0x7f;
    if (n == 126) {
      if (c->len - off < 4) break;
      n = ((unsigned)f[2] << 8) | f[3];
      h = 4;
    } else if (n == 127) {
      if (c->len - off < 10) break;
      n = 0;
      for (int i = 2; i < 10; i++) n = (n << 8) | f[i];
      h = 10;
    }
    if (c->len - off < h + n) {
      if (h + n > c->cap) { /* grow to hold this frame whole */
        c->cap = h + n;
        c->buf = realloc(c->buf, c->cap);
        if (!c->buf) { fprintf(stderr, "out of memory\n"); exit(1); }
      }
      break;
    }
    int op = f[0] & 0x0f;
    if (op == 1) on_text(c, (char *)f + h, n, t);
    else if (op == 9) {
      unsigned char pong[6] = { 0x8a, 0x80, 0, 0, 0, 0 };
      if (write(c->fd, pong, 6) < 0) { /* see send_text */ }
    } else if (op == 8) return -1;
    off += h + n;
  }
  memmove(c->buf, c->buf + off, c->len - off);
  c->len -= off;
  return 0;
}

static void drop(int ep, conn_t *c) {
  if (!c->open) return;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->open = 0;
  open_count--;
}

static int on_readable(conn_t *c) {
  for (;;) {
    ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (r < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (r == 0) return -1;
    c->len += r;
    if (parse(c, now_ms()) < 0) return -1;
    if (c->len < c->cap / 2) return 0;
  }
}

static int dial(void) {
  int fd;
  if (unix_path) {
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strncpy(a.sun_path, unix_path, sizeof a.sun_path - 1);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (void *)&a, sizeof a)) { if (fd >= 0) close(fd); return -1; }
  } else {
    char host[64];
    int port = 0;
    if (sscanf(host_port, "%63[^:]:%d", host, &port) != 2) return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd < 0 || connect(fd, (void *)&a, sizeof a)) { if (fd >= 0) close(fd); return -1; }
  }
  return fd;
}

/* Opens one connection through the upgrade (blocking), then hands it to epoll. */
static const char *connect_one(int ep, conn_t *c) {
  char req[2300];
  c->cap = 65536;
  c->buf = malloc(c->cap);
  c->len = 0;
  c->fd = dial();
  if (c->fd < 0) return "connect failed";
  struct timeval tv = { .tv_sec = 10 };
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", req_path, host_port);
  if (write(c->fd, req, n) != n) { close(c->fd); return "write failed"; }
  for (;;) {
    ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
    if (r <= 0) { close(c->fd); return "closed during the upgrade"; }
    c->len += r;
    unsigned char *e = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!e) continue;
    if (c->len < 12 || memcmp(c->buf, "HTTP/1.1 101", 12)) { close(c->fd); return "upgrade refused"; }
    size_t head = e + 4 - c->buf;
    memmove(c->buf, e + 4, c->len - head);
    c->len -= head;
    break;
  }
  fcntl(c->fd, F_SETFL, O_NONBLOCK);
  c->open = 1;
  c->last = 0;
  open_count++;
  /* By index: `conns` moves when a later connect grows it. */
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(c - conns) };
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
  parse(c, now_ms()); /* what came with the 101 (Throughline's hello) */
  return NULL;
}

static long json_int(const char *line, const char *key, long dflt) {
  const char *p = strstr(line, key);
  return p ? strtol(p + strlen(key), NULL, 10) : dflt;
}

static void emit_report(void) {
  double cpu = cpu_us() - track_cpu;
  double pct = cpu / 1000 / (now_ms() - track_at) * 100;
  printf("{\"type\":\"report\",\"delivered\":%lld,\"open\":%d,\"min\":%lld,\"cpuPct\":%.3f,\"cpuUs\":%.0f,\"hist\":{\"counts\":[", delivered, open_count, min_seq(), pct, cpu);
  int first = 1;
  for (int b = 0; b < BUCKETS; b++)
    if (counts[b]) {
      printf("%s[%d,%llu]", first ? "" : ",", b, counts[b]);
      first = 0;
    }
  printf("],\"n\":%llu,\"max\":%.6f,\"sum\":%.6f}}\n", hist_n, hist_max, hist_sum);
  fflush(stdout);
}

/* One command line; returns 1 to exit. */
static int command(int ep, const char *line) {
  if (strstr(line, "\"cmd\":\"connect\"")) {
    long count = json_int(line, "\"count\":", 0), failed = 0;
    const char *error = NULL;
    conns = realloc(conns, (nconns + count) * sizeof *conns);
    for (long i = 0; i < count; i++) {
      conn_t *c = &conns[nconns];
      memset(c, 0, sizeof *c);
      const char *err = connect_one(ep, c);
      if (err) { failed++; error = error ? error : err; free(c->buf); continue; }
      nconns++;
    }
    if (error) printf("{\"type\":\"connected\",\"open\":%d,\"failed\":%ld,\"error\":\"%s\"}\n", open_count, failed, error);
    else printf("{\"type\":\"connected\",\"open\":%d,\"failed\":%ld}\n", open_count, failed);
    fflush(stdout);
  } else if (strstr(line, "\"cmd\":\"track\"")) {
    delivered = 0;
    memset(counts, 0, sizeof counts);
    hist_n = 0;
    hist_max = hist_sum = 0;
    latency = strstr(line, "\"latency\":true") != NULL;
    track_cpu = cpu_us();
    track_at = now_ms();
    progress_ms = json_int(line, "\"progressMs\":", 20);
    next_progress = now_ms() + progress_ms;
  } else if (strstr(line, "\"cmd\":\"report\"")) {
    progress_ms = 0;
    emit_report();
  } else if (strstr(line, "\"cmd\":\"exit\"")) {
    return 1;
  } else {
    printf("{\"type\":\"error\",\"message\":\"unknown command\"}\n");
    fflush(stdout);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: ws-load ws-raw|ws-throughline URL\n");
    return 2;
  }
  if (strcmp(argv[1], "ws-raw") && strcmp(argv[1], "ws-throughline")) {
    fprintf(stderr, "unknown client kind %s; one of ws-raw, ws-throughline\n", argv[1]);
    return 2;
  }
  throughline = !strcmp(argv[1], "ws-throughline");
  /* ws://host:port/path?query */
  const char *u = strstr(argv[2], "://");
  u = u ? u + 3 : argv[2];
  const char *slash = strchr(u, '/');
  snprintf(host_port, sizeof host_port, "%.*s", (int)(slash ? slash - u : (long)strlen(u)), u);
  snprintf(req_path, sizeof req_path, "%s", slash ? slash : "/");
  unix_path = getenv("BENCH_UNIX_SOCKET");
  if (unix_path && !*unix_path) unix_path = NULL;
  struct rlimit rl;
  if (!getrlimit(RLIMIT_NOFILE, &rl)) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }

  int ep = epoll_create1(0);
  struct epoll_event sev = { .events = EPOLLIN, .data.u32 = STDIN_TAG };
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev);
  printf("{\"type\":\"ready\",\"kind\":\"%s\"}\n", argv[1]);
  fflush(stdout);

  char in[65536];
  size_t inlen = 0;
  double next_beats = 0;
  struct epoll_event evs[256];
  for (;;) {
    double t = now_ms();
    int wait = 100;
    if (progress_ms > 0) wait = next_progress > t ? (int)(next_progress - t) + 1 : 0;
    int k = epoll_wait(ep, evs, 256, wait);
    for (int i = 0; i < k; i++) {
      if (evs[i].data.u32 != STDIN_TAG) {
        conn_t *c = &conns[evs[i].data.u32];
        if (on_readable(c) < 0) drop(ep, c);
        continue;
      }
      ssize_t r = read(0, in + inlen, sizeof in - inlen - 1);
      if (r <= 0) return 0; /* the runner is gone */
      inlen += r;
      char *nl;
      while ((nl = memchr(in, '\n', inlen))) {
        *nl = 0;
        int res = command(ep, in);
        size_t used = nl + 1 - in;
        memmove(in, nl + 1, inlen - used);
        inlen -= used;
        if (res == 1) return 0;
      }
    }
    t = now_ms();
    if (progress_ms > 0 && t >= next_progress) {
      printf("{\"type\":\"progress\",\"delivered\":%lld,\"min\":%lld,\"open\":%d,\"cpuUs\":%.0f}\n", delivered, min_seq(), open_count, cpu_us());
      fflush(stdout);
      next_progress = t + progress_ms;
    }
    if (t < next_beats) continue;
    next_beats = t + 100; /* heartbeats are seconds apart: a scan every 100 ms is enough */
    for (int i = 0; i < nconns; i++)
      if (conns[i].open && conns[i].hb_ms > 0 && t >= conns[i].next_hb) {
        char beat[64];
        snprintf(beat, sizeof beat, "{\"type\":\"heartbeat\",\"time\":%.0f}", t);
        send_text(&conns[i], beat);
        conns[i].next_hb = t + conns[i].hb_ms;
      }
  }
}
