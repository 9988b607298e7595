// Conformance: Python's http.server, every way it frames a response, × clients;
// both sides watched, exact counts.
import { describeServerMatrix } from './helpers/server-matrix.js';
import { PYTHON_CASES, startPythonConformanceServer } from './helpers/real-servers.js';

describeServerMatrix('framing conformance: Python http.server × clients', startPythonConformanceServer, PYTHON_CASES);
