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
  struct dentry *root_dentry;
  struct vfsmount *root_mnt;
  struct scratch *s;
  __u32 n;
  __u32 flags;
};

static __always_inline struct mount *real_mount(struct vfsmount *vfsmnt) {
  return (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

static long walk_step(__u32 i, void *data) {
  struct walk_ctx *c = data;
  struct dentry *d = c->dentry;
  struct vfsmount *vm = c->vfsmnt;
  if (d == c->root_dentry && vm == c->root_mnt) return 1;
  struct dentry *mnt_root = BPF_CORE_READ(vm, mnt_root);
  struct dentry *up = BPF_CORE_READ(d, d_parent);
  if (d == mnt_root || d == up) {
    if (d != mnt_root) {
      c->flags |= WG_PATH_DISCONNECTED;
      return 1;
    }
    struct mount *m = real_mount(vm);
    struct mount *parent = BPF_CORE_READ(m, mnt_parent);
    if (parent == m || !parent) return 1;  // root of the mount namespace
    c->dentry = BPF_CORE_READ(m, mnt_mountpoint);
    c->vfsmnt = (struct vfsmount *)((void *)parent + bpf_core_field_offset(struct mount, mnt));
    return 0;
  }
  if (c->n >= WALK_MAX_COMPONENTS) {
    c->flags |= WG_PATH_TRUNCATED;
    return 1;
  }
  struct path_component *pc = &c->s->comps[c->n & (WALK_MAX_COMPONENTS - 1)];
  pc->name = BPF_CORE_READ(d, d_name.name);
  pc->len = BPF_CORE_READ(d, d_name.len);
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
  if (len > 0) bpf_probe_read_kernel(&c->s->path[pos & (WAGGLE_PATH_MAX - 1)], len & (WAGGLE_PATH_MAX - 1), pc->name);
  c->pos = pos + len;
  return 0;
}

// Resolves `path` (struct path *) into s->path; returns its length and sets *flags.
static __always_inline __u32 resolve_path(struct scratch *s, struct dentry *dentry, struct vfsmount *vfsmnt, __u32 *flags) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct walk_ctx w = {
    .dentry = dentry,
    .vfsmnt = vfsmnt,
    .root_dentry = BPF_CORE_READ(task, fs, root.dentry),
    .root_mnt = BPF_CORE_READ(task, fs, root.mnt),
    .s = s,
  };
  bpf_loop(WALK_MAX_STEPS, walk_step, &w, 0);
  struct assemble_ctx a = {.s = s, .n = w.n, .flags = w.flags};
  if (w.n > 0) bpf_loop(WALK_MAX_COMPONENTS, assemble_step, &a, 0);
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

struct reverse_ctx {
  struct scratch *s;
  __u32 len;
  __u32 take;
};

static long reverse_step(__u32 i, void *data) {
  struct reverse_ctx *c = data;
  if (i >= c->take) return 1;
  c->s->rpath[i & (WAGGLE_PATH_MAX - 1)] = c->s->path[(c->len - 1 - i) & (WAGGLE_PATH_MAX - 1)];
  return 0;
}

// The last `max` bytes of s->path, reversed, as the suffix trie's lookup key.
static __always_inline void reverse_tail(struct scratch *s, __u32 len, __u32 max) {
  __u32 take = len < max ? len : max;
  struct reverse_ctx r = {.s = s, .len = len, .take = take};
  bpf_loop(WAGGLE_PATH_MAX, reverse_step, &r, 0);
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
