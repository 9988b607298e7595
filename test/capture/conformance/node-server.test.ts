// Conformance: Node's http server, every way it frames a response, × clients;
// both sides watched, exact counts.
import { describeServerMatrix } from './helpers/server-matrix.js';
import { NODE_CASES, startNodeConformanceServer } from './helpers/real-servers.js';

describeServerMatrix('framing conformance: Node http server × clients', startNodeConformanceServer, NODE_CASES);
