// A peer as its own process, so the agent sees it as a separate service
// (OTEL_SERVICE_NAME): `node peer-main.js MODE …`
//   h2-server                      prints its port, serves until killed
//   h2-client PORT N CONCURRENCY   N requests to /users/I on one session
//   grpc-server                    prints its port, serves until killed
//   grpc-client PORT UNARY STREAMS PER_STREAM FAILURES
import { callGreeter, startGrpcJsServer } from './grpc-peers.js';
import { nodeClient, startH2Server } from './servers.js';

const [mode, ...args] = process.argv.slice(2);
const n = args.map(Number);
if (mode === 'h2-server') {
  const s = await startH2Server();
  console.log(s.port);
} else if (mode === 'grpc-server') {
  const s = await startGrpcJsServer();
  console.log(s.port);
} else if (mode === 'h2-client') {
  const statuses = await nodeClient(n[0]!, Array.from({ length: n[1]! }, (_, i) => `/users/${i}`), n[2]!);
  console.log(JSON.stringify({ requests: statuses.length }));
} else if (mode === 'grpc-client') {
  console.log(JSON.stringify(await callGreeter(n[0]!, n[1]!, n[2]!, n[3]!, n[4]!)));
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
