// waggle-test: no-kernel
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTarget, splitHostPort } from '../../src/protocols/http1/index.js';

describe('parseTarget', () => {
  const cases: Array<[string, ReturnType<typeof parseTarget>]> = [
    ['/users/42?x=1#frag', { form: 'origin', path: '/users/42', query: 'x=1' }],
    ['/', { form: 'origin', path: '/' }],
    ['/a?', { form: 'origin', path: '/a', query: '' }],
    ['http://Example.com:8080/p?q=1', { form: 'absolute', scheme: 'http', host: 'Example.com', port: 8080, path: '/p', query: 'q=1' }],
    ['https://user:pw@h', { form: 'absolute', scheme: 'https', host: 'h', path: '/' }],
    ['example.com:443', { form: 'authority', host: 'example.com', port: 443, path: '' }],
    ['*', { form: 'asterisk', path: '' }],
    ['weird', { form: 'other', path: 'weird' }],
  ];
  for (const [target, expected] of cases) it(target, () => assert.deepEqual(parseTarget(target), expected));
});

describe('splitHostPort', () => {
  const cases: Array<[string, ReturnType<typeof splitHostPort>]> = [
    ['h', { host: 'h' }],
    ['h:80', { host: 'h', port: 80 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['[::1]', { host: '::1' }],
    ['::1', { host: '::1' }],
    ['user:pw@h:1', { host: 'h', port: 1 }],
    ['h:99999', { host: 'h' }],
    ['h:abc', { host: 'h:abc' }],
    ['', {}],
  ];
  for (const [authority, expected] of cases) it(JSON.stringify(authority), () => assert.deepEqual(splitHostPort(authority), expected));
});
