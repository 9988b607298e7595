// waggle-test: no-kernel
// service.name derivation from executable and command line: every rule of
// src/discovery/service-name.ts, as a table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveServiceName } from '../../src/discovery/service-name.js';

const cases: [exe: string, argv: string[], cwd: string | undefined, expected: string][] = [
  ['/usr/bin/python3.11', ['python3', 'app.py'], '/srv', 'app'],
  ['/usr/bin/python3.11', ['/usr/bin/python3', '-u', '/srv/shop/app.py', '--port', '80'], undefined, 'app'],
  ['/usr/bin/python3.11', ['python3', '-m', 'http.server', '8000'], undefined, 'http.server'],
  ['/usr/bin/python3.11', ['python3', '-mhttp.server'], undefined, 'http.server'],
  ['/usr/bin/python3.11', ['python3', '-c', 'print(1)'], undefined, 'python3.11'],
  ['/usr/bin/python3.11', ['python3'], undefined, 'python3.11'],
  ['/usr/bin/python3.11', ['python3', '-W', 'ignore', 'worker.py'], undefined, 'worker'],
  ['/usr/bin/python3.11', ['/usr/bin/python3', '/usr/local/bin/gunicorn', 'app:app'], undefined, 'gunicorn'],
  ['/usr/bin/python3.11', ['python3', 'src/__main__.py'], '/srv/billing', 'billing'],
  ['/usr/bin/node', ['node', 'server.js'], '/srv', 'server'],
  ['/usr/bin/node', ['node', '/srv/api/index.js'], undefined, 'api'],
  ['/usr/bin/node', ['node', 'index.js'], '/srv/orders', 'orders'],
  ['/usr/bin/node', ['node', '/srv/shop/dist/main.js'], undefined, 'shop'],
  ['/usr/bin/node', ['node', '--enable-source-maps', '-r', 'dotenv/config', 'server.mjs'], undefined, 'server'],
  ['/usr/bin/node', ['node', '--import', './tracing.js', 'api.ts'], undefined, 'api'],
  ['/usr/bin/node', ['node', '--max-old-space-size=512', 'app.cjs'], undefined, 'app'],
  ['/usr/bin/node', ['node', '-e', 'require("http")'], undefined, 'node'],
  ['/usr/bin/node', ['node', '.'], '/srv/gateway', 'gateway'],
  ['/usr/bin/node', ['node'], undefined, 'node'],
  ['/usr/lib/jvm/java-17/bin/java', ['java', '-Xmx1g', '-jar', '/opt/foo.jar'], undefined, 'foo'],
  ['/usr/lib/jvm/java-17/bin/java', ['java', '-jar', 'orders-1.2.3-SNAPSHOT.jar'], undefined, 'orders'],
  ['/usr/lib/jvm/java-17/bin/java', ['java', '-cp', 'lib/*', '-Dx=y', 'com.example.OrderService'], undefined, 'OrderService'],
  ['/usr/lib/jvm/java-17/bin/java', ['java', '-m', 'shop/com.example.Shop'], undefined, 'Shop'],
  ['/usr/bin/ruby3.1', ['ruby', 'bin/worker.rb'], undefined, 'worker'],
  ['/usr/bin/bash', ['bash', '/opt/jobs/backup.sh'], undefined, 'backup'],
  ['/usr/bin/bash', ['bash', '-c', 'sleep 1'], undefined, 'bash'],
  ['/usr/bin/bash', ['bash', '/dev/fd/3'], undefined, 'bash'],
  ['/usr/sbin/nginx', ['nginx: master process /usr/sbin/nginx -g daemon off;'], undefined, 'nginx'],
  ['/usr/bin/sleep', ['sleep', '30'], undefined, 'sleep'],
  ['/usr/local/bin/api-server', ['/usr/local/bin/api-server', '--listen', ':80'], undefined, 'api-server'],
  // Multi-call binaries: the name they were started as (Debian's redis-server → redis-check-rdb).
  ['/usr/bin/redis-check-rdb', ['redis-server', '--port', '6379'], undefined, 'redis-server'],
  ['/usr/bin/redis-check-rdb', ['redis-server 127.0.0.1:6379'], undefined, 'redis-server'],
  ['/usr/bin/redis-check-rdb', ['/usr/bin/redis-server 127.0.0.1:6379'], undefined, 'redis-server'],
  ['/usr/bin/busybox', ['ls', '-l'], undefined, 'ls'],
  ['/usr/lib/postgresql/15/bin/postgres', ['postgres: checkpointer '], undefined, 'postgres'],
  ['/usr/bin/bash', ['-bash'], undefined, 'bash'],
  ['/usr/sbin/nginx', ['nginx: master process /usr/sbin/nginx -p /tmp/waggle-nginx-x/ -c nginx.conf'], undefined, 'nginx'],
  ['/usr/sbin/nginx', ['nginx: worker process'], undefined, 'nginx'],
];

test('derived service names', () => {
  for (const [exe, argv, cwd, expected] of cases) {
    assert.equal(deriveServiceName(exe, argv, cwd), expected, `${exe} ${argv.join(' ')} (cwd ${cwd})`);
  }
});
