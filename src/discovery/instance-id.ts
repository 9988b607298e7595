// service.instance.id: a UUID v5 (as OpenTelemetry's semantic conventions
// recommend for generated ids, in their namespace for service.instance.id)
// over this boot's id, the pid and the process start time. It is stable for
// the life of the process (and across agent restarts), and never shared by
// two processes, even when a pid is reused or the host reboots.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The namespace OpenTelemetry's semantic conventions define for service.instance.id. */
export const SERVICE_INSTANCE_NAMESPACE = '4d63009a-8d0f-11ee-aad7-4c796ed8e320';

export function uuidV5(name: string, namespace = SERVICE_INSTANCE_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

let bootId: string | undefined;

/** /proc/sys/kernel/random/boot_id, read once. */
export function readBootId(): string {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = 'unknown-boot';
    }
  }
  return bootId;
}

export function serviceInstanceId(pid: number, startTicks: number, boot = readBootId()): string {
  return uuidV5(`${boot}/${pid}/${startTicks}`);
}
