// Every protocol module the stream platform knows, in detection order (the
// most specific first). Adding a protocol: its folder under src/protocols/ and
// one line here.
import type { ProtocolModule } from './module.js';
import { postgresql } from './postgresql/index.js';

export const PROTOCOL_MODULES: readonly ProtocolModule[] = [
  postgresql,
];
