// autocannon (worker mode) calls this per request: a random customer, a random restaurant's
// order body and a fresh Idempotency-Key, so every request is a distinct order.
/* global require, process, module */
/* eslint-disable @typescript-eslint/no-require-imports -- autocannon workers load CommonJS files */
'use strict';
const { randomUUID } = require('node:crypto');
const { readFileSync } = require('node:fs');

const fixture = JSON.parse(readFileSync(process.env.ORDERS_BENCH_FIXTURE, 'utf8'));

module.exports = function setupRequest(request) {
  const token = fixture.tokens[Math.floor(Math.random() * fixture.tokens.length)];
  const body = fixture.bodies[Math.floor(Math.random() * fixture.bodies.length)];
  request.method = 'POST';
  request.path = '/v1/orders';
  request.headers = {
    ...request.headers,
    'content-type': 'application/json',
    authorization: `Bearer ${token}`,
    'idempotency-key': `bench-${randomUUID()}`,
  };
  request.body = body;
  return request;
};
