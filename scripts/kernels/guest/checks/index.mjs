// The guest's checks, in order. Each is { name, timeoutMs, run(ctx) → {feature: {ok, status, reason}} }:
// to test something more on every kernel, add a file here and a line below.
// doctor runs before the smoke tests because they read ctx.doctor to tell a
// kernel that lacks a capability (off) from waggle failing (fail). A check
// with `optIn: true` (a bench) runs only when named in --checks.
import contextPropagation from './context-propagation.mjs';
import doctor from './doctor.mjs';
import benchSyscallTax from './bench-syscall-tax.mjs';
import execEvent from './exec-event.mjs';
import http from './http.mjs';
import http1Exactness from './http1-exactness.mjs';
import lsmDeny from './lsm-deny.mjs';
import objects from './objects.mjs';
import protocols from './protocols.mjs';
import sigkill from './sigkill.mjs';
import tls from './tls.mjs';

export const CHECKS = [objects, doctor, http, http1Exactness, protocols, tls, contextPropagation, execEvent, sigkill, lsmDeny, benchSyscallTax];
