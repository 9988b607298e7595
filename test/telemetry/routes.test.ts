// waggle-test: no-kernel
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FANOUT_PLACEHOLDER, ID_PLACEHOLDER, RoutePatternError, RouteResolver, WILDCARD_ROUTE, isIdSegment } from '../../src/telemetry/index.js';

describe('configured route patterns', () => {
  const r = new RouteResolver({ patterns: ['/users/{id}', '/orders/:order/items/:item', '/static/*', '/files/*/meta', '/api/v*'], unmatched: 'unset' });
  const cases: Array<[string, string | undefined]> = [
    ['/users/42', '/users/{id}'],
    ['/users/alice', '/users/{id}'],
    ['/users/42/extra', undefined],
    ['/users', undefined],
    ['/orders/7/items/9', '/orders/:order/items/:item'],
    ['/static/css/site.css', '/static/*'],
    ['/static', '/static/*'],
    ['/files/a/meta', '/files/*/meta'],
    ['/api/v2/x/y', '/api/v*'],
    ['/other', undefined],
  ];
  for (const [path, route] of cases) it(`${path} → ${route}`, () => assert.equal(r.resolve('svc', path).route, route));

  it('the first matching pattern wins', () => {
    const first = new RouteResolver({ patterns: ['/users/me', '/users/{id}'] });
    assert.equal(first.resolve('s', '/users/me').route, '/users/me');
    assert.equal(first.resolve('s', '/users/3').route, '/users/{id}');
  });

  it('rejects malformed patterns with the pattern in the message', () => {
    assert.throws(() => new RouteResolver({ patterns: ['users/{id}'] }), RoutePatternError);
    assert.throws(() => new RouteResolver({ patterns: ['/a*/b'] }), /a\*\/b/);
    assert.throws(() => new RouteResolver({ patterns: ['/u{id}'] }), RoutePatternError);
    assert.throws(() => new RouteResolver({ maxRoutesPerService: 0 }), /maxRoutesPerService/);
  });
});

describe('id heuristic', () => {
  const ids = ['42', '0', '2024', '550e8400-e29b-41d4-a716-446655440000', '550e8400e29b41d4a716446655440000', '507f1f77bcf86cd799439011', 'deadbeef1', 'eyJhbGciOiJIUzI1NiJ9abc123', '2024-05-01', '12.5', '123abc4', 'someone@example.com', 'x'.repeat(65)];
  const words = ['users', 'v1', 'v10', 'api', 'user123', 'healthz', 'index.html', 'deadbeef', 'a1', 'static', 'ok'];
  for (const s of ids) it(`${s.slice(0, 40)} is an id`, () => assert.equal(isIdSegment(s), true));
  for (const s of words) it(`${s} is a name`, () => assert.equal(isIdSegment(s), false));
});

describe('unmatched modes', () => {
  it('heuristic replaces ids', () => {
    const r = new RouteResolver({ unmatched: 'heuristic' });
    assert.equal(r.resolve('s', '/users/42/orders/507f1f77bcf86cd799439011').route, `/users/${ID_PLACEHOLDER}/orders/${ID_PLACEHOLDER}`);
    assert.equal(r.resolve('s', '/').route, '/');
    assert.equal(r.resolve('s', '/healthz').route, '/healthz');
  });

  it('path, wildcard and unset', () => {
    assert.equal(new RouteResolver({ unmatched: 'path' }).resolve('s', '/users/42').route, '/users/42');
    assert.equal(new RouteResolver({ unmatched: 'wildcard' }).resolve('s', '/users/42').route, WILDCARD_ROUTE);
    assert.equal(new RouteResolver({ unmatched: 'unset' }).resolve('s', '/users/42').route, undefined);
  });

  it('non-origin targets have no route', () => {
    assert.equal(new RouteResolver().resolve('s', '').route, undefined);
  });

  it('low-cardinality collapses a position with too many distinct names', () => {
    const r = new RouteResolver({ maxSegmentFanout: 3 });
    const names = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const routes = names.map((n) => r.resolve('s', `/users/${n}/profile`).route);
    assert.deepEqual(routes, ['/users/alice/profile', '/users/bob/profile', '/users/carol/profile', `/users/${FANOUT_PLACEHOLDER}/profile`, `/users/${FANOUT_PLACEHOLDER}/profile`]);
    assert.equal(r.resolve('s', '/users/alice/profile').route, '/users/alice/profile', 'known names keep their route');
    assert.equal(r.routeCount('s'), 4);
  });

  it('deep paths are cut at maxSegments', () => {
    const r = new RouteResolver({ maxSegments: 3 });
    assert.equal(r.resolve('s', '/a/b/c/d/e').route, '/a/b/c/**');
  });

  // Paths holding ids are not remembered by path: each resolution walks the route tree.
  it('a deep route is not its prefix’s route', () => {
    const r = new RouteResolver({ maxSegments: 3 });
    assert.equal(r.resolve('s', '/a/b/c/42').route, '/a/b/c/**');
    assert.equal(r.resolve('s', '/a/b/c/43').route, '/a/b/c/**');
    assert.equal(r.resolve('s', '/a/b/c').route, '/a/b/c');
    assert.equal(r.resolve('s', '/a/b/7').route, `/a/b/${ID_PLACEHOLDER}`);
    assert.equal(r.resolve('s', '/a/b/c/44').route, '/a/b/c/**');
  });

  it('fan-out choices hold when id paths are resolved again', () => {
    const r = new RouteResolver({ maxSegmentFanout: 3 });
    const first = ['alice', 'bob', 'carol', 'dave'].map((n, i) => r.resolve('s', `/users/${n}/orders/${i}`).route);
    assert.deepEqual(first, ['/users/alice/orders/{id}', '/users/bob/orders/{id}', '/users/carol/orders/{id}', `/users/${FANOUT_PLACEHOLDER}/orders/{id}`]);
    assert.equal(r.resolve('s', '/users/alice/orders/10').route, '/users/alice/orders/{id}');
    assert.equal(r.resolve('s', '/users/zed/orders/11').route, `/users/${FANOUT_PLACEHOLDER}/orders/{id}`);
    // An inner node of known routes that is no route yet becomes one.
    assert.equal(r.resolve('s', '/users/alice').route, '/users/alice');
    assert.equal(r.resolve('s', '/users/alice/orders').route, '/users/alice/orders');
    assert.equal(r.routeCount('s'), 6);
  });

  it('an id path past the cap collapses, and is counted, every time', () => {
    const r = new RouteResolver({ maxRoutesPerService: 2 });
    assert.equal(r.resolve('s', '/a/1').route, `/a/${ID_PLACEHOLDER}`);
    assert.equal(r.resolve('s', '/b/2').route, `/b/${ID_PLACEHOLDER}`);
    for (const p of ['/c/3', '/c/4']) assert.deepEqual(r.resolve('s', p), { route: WILDCARD_ROUTE, collapsed: true });
    assert.deepEqual(r.resolve('s', '/a/5'), { route: `/a/${ID_PLACEHOLDER}`, collapsed: false });
  });
});

describe('route cardinality is bounded', () => {
  it('10,000 distinct ids on /users/<id> make one route', () => {
    const r = new RouteResolver();
    const routes = new Set<string | undefined>();
    for (let i = 0; i < 10_000; i++) routes.add(r.resolve('shop', `/users/${i * 7919}`).route);
    assert.deepEqual([...routes], ['/users/{id}']);
    assert.equal(r.routeCount('shop'), 1);
  });

  it('10,000 distinct names make at most maxRoutes routes, the rest collapse to /** and are counted', () => {
    const r = new RouteResolver({ unmatched: 'path', maxRoutesPerService: 50 });
    const routes = new Set<string | undefined>();
    let collapsed = 0;
    for (let i = 0; i < 10_000; i++) {
      const res = r.resolve('shop', `/page-${String.fromCharCode(97 + (i % 26))}${i}`);
      routes.add(res.route);
      if (res.collapsed) collapsed++;
    }
    assert.equal(routes.size, 51);
    assert.ok(routes.has(WILDCARD_ROUTE));
    assert.equal(collapsed, 10_000 - 50);
  });

  it('each service has its own cap, and forget() releases it', () => {
    const r = new RouteResolver({ unmatched: 'path', maxRoutesPerService: 2 });
    for (const p of ['/a', '/b', '/c']) r.resolve('one', p);
    assert.equal(r.resolve('one', '/d').route, WILDCARD_ROUTE);
    assert.equal(r.resolve('two', '/d').route, '/d');
    r.forget('one');
    assert.equal(r.routeCount('one'), 0);
    assert.equal(r.resolve('one', '/d').route, '/d');
  });
});
