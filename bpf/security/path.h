// Canonical paths from kernel objects (what d_path would print): walk the
// dentries up to the mount root, cross to the parent mount, stop at the task's
// root. Symlinks, "..", relative names and dirfds are already resolved there, so
// a policy on /etc/shadow cannot be sidestepped with `cd /etc; cat ./shadow`.
#ifndef WAGGLE_SECURITY_PATH_H
#define WAGGLE_SECURITY_PATH_H

#include "state.h"

struct walk_ctx {
  struct dentry *dentry;
  struct vfsmount *vfsmnt;
  struct dentry *mnt_root;  // of vfsmnt, read once per mount
  struct dentry *root_dentry;
  struct vfsmount *root_mnt;
  struct scratch *s;
  __u32 n;
  __u32 flags;
};

static __always_inline struct mount *real_mount(struct vfsmount *vfsmnt) {
  return (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

// d_parent and d_name sit together at the start of struct dentry: one read
// brings both (offsets still come from CO-RE, and are checked against the size).
#define DENTRY_HEAD 64

static long walk_step(__u32 i, void *data) {
  struct walk_ctx *c = data;
  struct dentry *d = c->dentry;
  if (d == c->root_dentry && c->vfsmnt == c->root_mnt) return 1;
  __u8 head[DENTRY_HEAD];
  __u32 off_parent = bpf_core_field_offset(struct dentry, d_parent);
  __u32 off_len = bpf_core_field_offset(struct dentry, d_name) + bpf_core_field_offset(struct qstr, len);
  __u32 off_name = bpf_core_field_offset(struct dentry, d_name) + bpf_core_field_offset(struct qstr, name);
  struct dentry *up;
  const unsigned char *name;
  __u32 len;
  if (off_parent + 8 <= DENTRY_HEAD && off_len + 4 <= DENTRY_HEAD && off_name + 8 <= DENTRY_HEAD) {
    if (bpf_probe_read_kernel(head, sizeof(head), d)) return 1;
    up = *(struct dentry **)&head[off_parent & (DENTRY_HEAD - 1)];
    len = *(__u32 *)&head[off_len & (DENTRY_HEAD - 1)];
    name = *(const unsigned char **)&head[off_name & (DENTRY_HEAD - 1)];
  } else {
    up = BPF_CORE_READ(d, d_parent);
    len = BPF_CORE_READ(d, d_name.len);
    name = BPF_CORE_READ(d, d_name.name);
  }
  if (d == c->mnt_root || d == up) {
    if (d != c->mnt_root) {
      c->flags |= WG_PATH_DISCONNECTED;
      return 1;
    }
    struct mount *m = real_mount(c->vfsmnt);
    struct mount *parent = BPF_CORE_READ(m, mnt_parent);
    if (parent == m || !parent) return 1;  // root of the mount namespace
    c->dentry = BPF_CORE_READ(m, mnt_mountpoint);
    struct vfsmount *next = (struct vfsmount *)((void *)parent + bpf_core_field_offset(struct mount, mnt));
    c->vfsmnt = next;
    c->mnt_root = BPF_CORE_READ(next, mnt_root);
    return 0;
  }
  if (c->n >= WALK_MAX_COMPONENTS) {
    c->flags |= WG_PATH_TRUNCATED;
    return 1;
  }
  struct path_component *pc = &c->s->comps[c->n & (WALK_MAX_COMPONENTS - 1)];
  pc->name = name;
  pc->len = len;
  c->n++;
  c->dentry = up;
  return 0;
}

struct assemble_ctx {
  struct scratch *s;
  __u32 n;
  __u32 pos;
  __u32 flags;
};

// Writes components root-first into s->path, keeping the first 255 bytes.
static long assemble_step(__u32 i, void *data) {
  struct assemble_ctx *c = data;
  if (i >= c->n) return 1;
  struct path_component *pc = &c->s->comps[(c->n - 1 - i) & (WALK_MAX_COMPONENTS - 1)];
  __u32 pos = c->pos;
  if (pos >= WAGGLE_PATH_MAX - 1) {
    c->flags |= WG_PATH_TRUNCATED;
    return 1;
  }
  c->s->path[pos & (WAGGLE_PATH_MAX - 1)] = '/';
  pos++;
  __u32 len = pc->len;
  __u32 room = WAGGLE_PATH_MAX - 1 - pos;
  if (len > room) {
    len = room;
    c->flags |= WG_PATH_TRUNCATED;
  }
  // Keep the masks: inlined (legacy builds), clang drops them after the checks above.
  __u32 at = pos;
  asm volatile("" : "+r"(len), "+r"(at));
  if (len > 0) bpf_probe_read_kernel(&c->s->path[at & (WAGGLE_PATH_MAX - 1)], len & (WAGGLE_PATH_MAX - 1), pc->name);
  c->pos = pos + len;
  return 0;
}

#ifdef WAGGLE_LEGACY
// Legacy builds (5.10): each step is a global function, verified once rather
// than at every iteration of the bounded loop (the walk's branches multiply the
// verifier's paths). Global functions take no pointers there, so the loop's
// context waits in per-CPU maps and each step copies it to its stack.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u8[sizeof(struct walk_ctx)]);  // not the struct: clang then emits struct scratch as a forward declaration
} legacy_walk SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u8[sizeof(struct assemble_ctx)]);
} legacy_assemble SEC(".maps");

__attribute__((noinline)) int walk_step_global(__u32 i) {
  __u32 zero = 0;
  struct walk_ctx *saved = bpf_map_lookup_elem(&legacy_walk, &zero);
  struct scratch *s = get_scratch();
  if (!saved || !s) return 1;
  struct walk_ctx c = *saved;
  c.s = s;
  long r = walk_step(i, &c);
  saved->dentry = c.dentry;
  saved->vfsmnt = c.vfsmnt;
  saved->mnt_root = c.mnt_root;
  saved->n = c.n;
  saved->flags = c.flags;
  return r;
}

__attribute__((noinline)) int assemble_step_global(__u32 i) {
  __u32 zero = 0;
  struct assemble_ctx *saved = bpf_map_lookup_elem(&legacy_assemble, &zero);
  struct scratch *s = get_scratch();
  if (!saved || !s) return 1;
  struct assemble_ctx c = *saved;
  c.s = s;
  long r = assemble_step(i, &c);
  saved->pos = c.pos;
  saved->flags = c.flags;
  return r;
}

#define WALK_LOOP(w) WAGGLE_LEGACY_LOOP(WALK_MAX_STEPS, WALK_MAX_STEPS, WALK_STEP_GLOBAL, legacy_walk, w, s)
#define ASSEMBLE_LOOP(n, a) WAGGLE_LEGACY_LOOP(n, WALK_MAX_COMPONENTS, ASSEMBLE_STEP_GLOBAL, legacy_assemble, a, s)
#define WALK_STEP_GLOBAL(i, unused) walk_step_global(i)
#define ASSEMBLE_STEP_GLOBAL(i, unused) assemble_step_global(i)
#else
#define WALK_LOOP(w) bpf_loop(WALK_MAX_STEPS, walk_step, (w), 0)
#define ASSEMBLE_LOOP(n, a) bpf_loop(WALK_MAX_COMPONENTS, assemble_step, (a), 0)
#endif

// Resolves `path` (struct path *) into s->path; returns its length and sets *flags.
static __always_inline __u32 resolve_path(struct scratch *s, struct dentry *dentry, struct vfsmount *vfsmnt, __u32 *flags) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct walk_ctx w = {
    .dentry = dentry,
    .vfsmnt = vfsmnt,
    .mnt_root = BPF_CORE_READ(vfsmnt, mnt_root),
    .root_dentry = BPF_CORE_READ(task, fs, root.dentry),
    .root_mnt = BPF_CORE_READ(task, fs, root.mnt),
    .s = s,
  };
  WALK_LOOP(&w);
  struct assemble_ctx a = {.s = s, .n = w.n, .flags = w.flags};
  if (w.n > 0) ASSEMBLE_LOOP(w.n, &a);
  if (a.pos == 0) {
    s->path[0] = '/';
    a.pos = 1;
  }
  s->path[a.pos & (2 * WAGGLE_PATH_MAX - 1)] = 0;
  s->prefixlen = (a.pos + 1) * 8;
  *flags = a.flags;
  return a.pos;
}

static __always_inline __u32 resolve_file(struct scratch *s, struct file *file, __u32 *flags) {
  struct dentry *d = BPF_CORE_READ(file, f_path.dentry);
  struct vfsmount *m = BPF_CORE_READ(file, f_path.mnt);
  return resolve_path(s, d, m, flags);
}

// The last `max` (≤ 64) bytes of s->path, reversed, as the suffix trie's lookup
// key: eight 8-byte loads of the window ending at the NUL, byte-swapped. Bytes of
// the window before the path's start come from s->slack and lie past the key's
// prefix length, so they are never compared.
static __always_inline void reverse_tail(struct scratch *s, __u32 len, __u32 max) {
  __u32 take = len < max ? len : max;
  __u32 end = len & (WAGGLE_PATH_MAX - 1);
  char *window = (char *)s->path + end - WAGGLE_SUFFIX_MAX;
#pragma unroll
  for (int k = 0; k < WAGGLE_SUFFIX_MAX / 8; k++) {
    __u64 w;
    __builtin_memcpy(&w, window + WAGGLE_SUFFIX_MAX - 8 * (k + 1), 8);
    w = __builtin_bswap64(w);
    __builtin_memcpy(&s->rpath[8 * k], &w, 8);
  }
  s->rprefixlen = take * 8;
}

// The struct file behind descriptor `fd` of the current task.
static __always_inline struct file *fd_file(long fd) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
  if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds)) return NULL;
  struct file **table = BPF_CORE_READ(fdt, fd);
  struct file *f = NULL;
  bpf_probe_read_kernel(&f, sizeof(f), &table[fd]);
  return f;
}

#endif
