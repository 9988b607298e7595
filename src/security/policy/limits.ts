// Limits of the policy set, stated once: the schema enforces them with errors
// that name them, and the kernel maps are sized from them.

/** Selector bits the kernel programs evaluate at once (SEL_MAX in bpf/security/records.h). */
export const MAX_SELECTORS_TOTAL = 128;
export const MAX_POLICIES = 64;
export const MAX_SELECTORS_PER_POLICY = 8;
/** Values in one list (paths.prefix, binary.notEqual, destination.ports, …). */
export const MAX_VALUES_PER_LIST = 256;
/** Bytes of a path value: 255 are kept by the kernel, one more marks equality (see compile/tries.ts). */
export const MAX_PATH_BYTES = 254;
/** Bytes of a suffix value: the kernel matches suffixes on the last 64 bytes of a path (WAGGLE_SUFFIX_MAX). */
export const MAX_SUFFIX_BYTES = 64;
/** Entries of each kernel trie or set (path, suffix, binary, parent binary, address, port, uid, pid). */
export const MAX_MAP_ENTRIES = 4096;
export const MAX_NAME_LENGTH = 63;
export const MIN_RATE_LIMIT_MS = 100;
export const MAX_RATE_LIMIT_MS = 24 * 3600 * 1000;
