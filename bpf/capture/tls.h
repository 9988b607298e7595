// TLS plaintext: uprobes on OpenSSL's SSL_read/SSL_write (and their _ex forms)
// feed the plaintext through the same per-run path as syscall bytes
// (feed_run: HTTP/1's fast path, else the stream path). This header holds the
// state that ties an SSL object to its socket.
//
// Keys. A TLS connection's plaintext state (conns, streams) is keyed by its
// struct sock address | 1: sock addresses are aligned, so the plaintext never
// shares state with the socket's own (ciphertext) bytes. Plaintext of an SSL
// object whose socket is unknown goes to a pseudo connection keyed by
// tls_pseudo_key(ssl, tgid), whose top bit is clear (kernel addresses have it
// set), so it is never read as a sock and has no tuple.
//
// Binding an SSL object to its socket (ssl_socks):
// - socket BIOs (libssl as Python, curl, nginx use it): the read/write syscall
//   happens on the same thread inside the SSL call. While a call is active on a
//   thread (ssl_calls), a socket syscall exit binds the call's SSL to the
//   socket. This is the truth and overrides any earlier binding.
// - memory BIOs (Node): the socket is read outside the SSL call, just before it,
//   on the same thread: every read of a TLS socket is followed by SSL_read of
//   that connection's SSL (Node's TLSWrap::ClearOut). A TLS socket read with no
//   SSL call active is remembered per thread (tls_reads); the next SSL_read on
//   that thread binds its SSL to it if it has no binding yet, and takes it.
//   (Beyla/OBI do the same with the connection last seen on the thread.)
// A socket carries TLS (tls_socks) once a binding names it or its first run is a
// TLS handshake record (ClientHello/ServerHello); its syscall bytes are then
// ciphertext and are skipped, never captured, streamed or counted as traffic.
// At the socket's close its binding is dropped, so an SSL address reused by the
// allocator for a new connection binds afresh.
#ifndef WAGGLE_CAPTURE_TLS_H
#define WAGGLE_CAPTURE_TLS_H

#include "maps.h"

// Arguments of an SSL call in progress, per thread (entry → return).
struct ssl_call {
  __u64 ssl;
  __u64 buf;
  __u64 out_len; // SSL_read_ex/SSL_write_ex: where the byte count is written (size_t *)
  __u32 dir;     // DIR_IN (SSL_read*) or DIR_OUT (SSL_write*)
  __u32 ex;      // the _ex form: returns 1/0, the count is in *out_len
};

struct ssl_key {
  __u64 ssl;
  __u32 tgid;
  __u32 pad;
};

struct ssl_sock {
  __u64 sk;
  __u32 ino;
  __u32 pad;
};

// A socket that carries TLS, and the SSL object last bound to it (ssl 0: none).
// Kept past the socket's close (a write on loopback can see the peer's reset
// close the socket before the write's own exit): its inode tells a socket
// later allocated at the same address apart.
struct tls_sock {
  __u64 ssl;
  __u32 tgid;
  __u32 ino;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8192);
  __type(key, __u64); // pid_tgid
  __type(value, struct ssl_call);
} ssl_calls SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct ssl_key);
  __type(value, struct ssl_sock);
} ssl_socks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64); // struct sock address
  __type(value, struct tls_sock);
} tls_socks SEC(".maps");

// The last TLS socket read on a thread outside any SSL call, until an SSL_read takes it.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8192);
  __type(key, __u64); // pid_tgid
  __type(value, struct ssl_sock);
} tls_reads SEC(".maps");

// Kernel addresses (struct sock) have the top bit set; pseudo keys never do.
static __always_inline int key_is_sock(__u64 key) { return key >> 63; }
static __always_inline __u64 key_sock(__u64 key) { return key & ~1ULL; }

static __always_inline __u64 tls_pseudo_key(__u64 ssl, __u32 tgid) {
  return ((ssl ^ ((__u64)tgid << 40)) & 0x3fffffffffffffffULL) | 1;
}

// The socket carries TLS (counted once per socket).
static __always_inline struct tls_sock *tls_mark(__u64 sk, __u32 ino) {
  struct tls_sock *t = bpf_map_lookup_elem(&tls_socks, &sk);
  if (t && t->ino == ino) return t;
  struct tls_sock fresh = {.ino = ino};
  if (bpf_map_update_elem(&tls_socks, &sk, &fresh, BPF_ANY)) return NULL;
  count(CNT_TLS_SOCKETS);
  // Ciphertext streamed before the socket was known to carry TLS (a connection
  // older than the capture) is not streamed further; its plaintext is.
  bpf_map_delete_elem(&streams, &sk);
  return bpf_map_lookup_elem(&tls_socks, &sk);
}

static __always_inline void tls_bind(__u64 ssl, __u32 tgid, __u64 sk, __u32 ino) {
  struct ssl_key k = {.ssl = ssl, .tgid = tgid};
  struct ssl_sock b = {.sk = sk, .ino = ino};
  bpf_map_update_elem(&ssl_socks, &k, &b, BPF_ANY);
  struct tls_sock *t = tls_mark(sk, ino);
  if (t) {
    t->ssl = ssl;
    t->tgid = tgid;
  }
}

// At a socket syscall's exit (watched process, TCP): 1 when the socket carries
// TLS, so its bytes are ciphertext and must not be fed.
static __always_inline int tls_syscall(__u64 id, __u64 sk, __u32 ino, __u32 dir) {
  struct ssl_call *call = bpf_map_lookup_elem(&ssl_calls, &id);
  if (call) {
    tls_bind(call->ssl, id >> 32, sk, ino);
    return 1;
  }
  struct tls_sock *t = bpf_map_lookup_elem(&tls_socks, &sk);
  if (!t || t->ino != ino) return 0; // none, or a closed socket's at the same address
  if (dir == 0 /* DIR_IN */) {
    struct ssl_sock r = {.sk = sk, .ino = ino};
    bpf_map_update_elem(&tls_reads, &id, &r, BPF_ANY);
  }
  return 1;
}

// Whether the run in feed_state (its peeked first bytes) starts with a TLS
// handshake record (header) holding a ClientHello or ServerHello.
static __always_inline int tls_hello(const struct feed_state *st) {
  // OpenSSL's socket BIO reads a record's 5-byte header alone, then its body.
  if (!st->ubuf || st->len < 5) return 0;
  const __u8 *b = st->pk.b;
  __u32 record = ((__u32)b[3] << 8) | b[4];
  if (b[0] != 0x16 || b[1] != 3 || b[2] > 4 || !record || record > 18432) return 0;
  return st->len == 5 || b[5] == 1 || b[5] == 2;
}

// The socket closed: forget its SSL binding (the allocator may reuse the SSL
// address for a new connection). The TLS mark stays (see struct tls_sock).
static __always_inline void tls_forget(__u64 sk) {
  struct tls_sock *t = bpf_map_lookup_elem(&tls_socks, &sk);
  if (!t || !t->ssl) return;
  struct ssl_key k = {.ssl = t->ssl, .tgid = t->tgid};
  struct ssl_sock *b = bpf_map_lookup_elem(&ssl_socks, &k);
  if (b && b->sk == sk) bpf_map_delete_elem(&ssl_socks, &k);
  t->ssl = 0;
}

#endif
