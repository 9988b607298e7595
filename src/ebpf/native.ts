// Typed surface of the Node-API binding (native/*.c). Only src/ebpf uses it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { nativeAddonPath } from '../paths.js';
import { WaggleError } from './errors.js';

declare const handleBrand: unique symbol;
/** An opaque native handle (a Node-API external). */
export type Handle<Kind extends string> = { readonly [handleBrand]: Kind };

export interface NativeProgramInfo {
  name: string;
  section: string;
  type: string;
  autoload: boolean;
  instructions: number;
}

export interface NativeMapSpecInfo {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  internal: boolean;
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

export interface NativeMapInfo {
  handle: Handle<'map'>;
  id: number;
  /** The map's fd (owned by its object or whoever opened it). */
  fd: number;
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  /** Bytes of a value as user space reads it (per-CPU maps: one 8-aligned slot per possible CPU). */
  valueBytes: number;
  maxEntries: number;
  flags: number;
  possibleCpus: number;
}

export interface NativeProgramRuntimeInfo {
  id: number;
  name: string;
  type: string;
  runTimeNs: number;
  runCount: number;
  recursionMisses: number;
  verifiedInstructions: number;
}

export interface NativeProgramCode {
  /** Translated instructions (struct bpf_insn, 8 bytes each) as the kernel keeps them. */
  instructions: Buffer;
  /** One record per subprogram: insnOff is where it starts in `instructions`. */
  funcInfo: { insnOff: number; typeId: number }[];
  btfId: number;
}

export type RingbufCallback = (batch: Buffer | null, count: number, error?: Error & { errno?: number }) => void;

export interface NativeBinding {
  openObject(path: string): Handle<'object'>;
  objectInfo(obj: Handle<'object'>): { name: string; programs: NativeProgramInfo[]; maps: NativeMapSpecInfo[] };
  programSetAutoload(obj: Handle<'object'>, program: string, autoload: boolean): void;
  mapSetMaxEntries(obj: Handle<'object'>, map: string, maxEntries: number): void;
  mapReuseFd(obj: Handle<'object'>, map: string, fd: number): void;
  mapInitialValue(obj: Handle<'object'>, map: string): Buffer | null;
  mapSetInitialValue(obj: Handle<'object'>, map: string, value: Uint8Array): void;
  objectBtf(obj: Handle<'object'>): Buffer | null;
  objectLoad(obj: Handle<'object'>): void;
  programFd(obj: Handle<'object'>, program: string): number;
  mapFd(obj: Handle<'object'>, map: string): number;
  objectClose(obj: Handle<'object'>): void;
  programInfo(fd: number): NativeProgramRuntimeInfo;
  enableStats(): number;
  programSetLog(obj: Handle<'object'>, program: string, level: number, size: number): void;
  programVerifierLog(obj: Handle<'object'>, program: string): string | null;
  programInstructions(obj: Handle<'object'>, program: string): Buffer;
  programCode(fd: number): NativeProgramCode;

  mapOpen(fd: number): NativeMapInfo;
  mapLookup(map: Handle<'map'>, key: Uint8Array | null, value: Uint8Array): boolean;
  mapUpdate(map: Handle<'map'>, key: Uint8Array | null, value: Uint8Array, flags?: number): void;
  mapDelete(map: Handle<'map'>, key: Uint8Array): boolean;
  mapLookupAndDelete(map: Handle<'map'>, key: Uint8Array | null, value: Uint8Array): boolean;
  mapNextKey(map: Handle<'map'>, key: Uint8Array | null, next: Uint8Array): boolean;
  mapLookupBatch(
    map: Handle<'map'>,
    inBatch: Uint8Array | null,
    outBatch: Uint8Array,
    keys: Uint8Array,
    values: Uint8Array,
    count: number,
  ): { count: number; done: boolean };
  mapUpdateBatch(map: Handle<'map'>, keys: Uint8Array, values: Uint8Array, count: number, flags?: number): number;
  mapDeleteBatch(map: Handle<'map'>, keys: Uint8Array, count: number): number;

  attachTracepoint(obj: Handle<'object'>, program: string, category: string, name: string): Handle<'link'>;
  attachRawTracepoint(obj: Handle<'object'>, program: string, name: string): Handle<'link'>;
  attachAuto(obj: Handle<'object'>, program: string): Handle<'link'>;
  attachKprobe(obj: Handle<'object'>, program: string, retprobe: boolean, fn: string): Handle<'link'>;
  attachUprobe(
    obj: Handle<'object'>,
    program: string,
    retprobe: boolean,
    pid: number,
    binaryPath: string,
    functionName: string | null,
    offset: number,
  ): Handle<'link'>;
  attachPerfEvent(obj: Handle<'object'>, program: string, perfEventFd: number): Handle<'link'>;
  attachCgroup(obj: Handle<'object'>, program: string, cgroupFd: number): Handle<'link'>;
  attachTcx(obj: Handle<'object'>, program: string, ifindex: number, ingress: boolean): Handle<'link'>;
  attachSockmap(obj: Handle<'object'>, program: string, mapFd: number): Handle<'link'>;
  linkDestroy(link: Handle<'link'>): void;

  ringbufOpen(mapFd: number, callback: RingbufCallback, maxBatchBytes: number): Handle<'ringbuf'>;
  ringbufConsume(rb: Handle<'ringbuf'>): { batch: Buffer; count: number; more: boolean; lostNoMemory: number } | null;
  ringbufStats(rb: Handle<'ringbuf'>): { lostNoMemory: number };
  ringbufClose(rb: Handle<'ringbuf'>): void;

  perfEventOpen(type: number, config: number, period: number, frequency: boolean, pid: number, cpu: number): number;
  closeFd(fd: number): void;
  tcHookCreate(ifindex: number, ingress: boolean): boolean;
  tcHookDestroy(ifindex: number): void;
  tcAttach(ifindex: number, ingress: boolean, progFd: number, priority: number): { handle: number; priority: number };
  tcDetach(ifindex: number, ingress: boolean, handle: number, priority: number): void;
  packetSocketOpen(ifindex: number): number;
  socketAttachFilter(socketFd: number, progFd: number): void;
  programTestRun(progFd: number, ctx: Uint8Array | null, repeat: number): { retval: number; durationNs: number };
  mount(source: string, target: string, fstype: string): void;
  versions(): { libbpf: string; possibleCpus: number };
}

let binding: NativeBinding | undefined;

/** Loads the addon once; a missing build is a clear error, not a stack of require() internals. */
export function native(): NativeBinding {
  if (binding) return binding;
  if (!existsSync(nativeAddonPath)) {
    throw new WaggleError(
      'WAGGLE_ERR_NATIVE_MISSING',
      `the native binding is not built (${nativeAddonPath} is missing); run "npm run build:native" or scripts/setup.sh`,
    );
  }
  const require = createRequire(import.meta.url);
  binding = require(nativeAddonPath) as NativeBinding;
  return binding;
}
