#!/usr/bin/env node
// openidd IPC client: Node.js standard library only (http.request with socketPath).
//
//   node openidd_client.js auth-url USER_ID   # prints the JSON answer (alipayAuthUrl, serialNo, ...)
//   node openidd_client.js get USER_ID        # the latest binding, or exit 3 when none
//   node openidd_client.js wait SERIAL_NO     # long-polls until the request leaves "pending"
//
// The socket is $OPENIDD_SOCKET or /run/openidd/openidd.sock.
'use strict';
const http = require('node:http');

const SOCKET_PATH = process.env.OPENIDD_SOCKET || '/run/openidd/openidd.sock';

class OpenIddError extends Error {
  constructor(status, code, message) {
    super(`HTTP ${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

/** Sends one request; resolves with the decoded JSON on 200, rejects with OpenIddError otherwise. */
function call(method, path, body, timeoutMs = 90_000) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers = data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {};
    const req = http.request({ socketPath: SOCKET_PATH, method, path, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        let answer;
        try {
          answer = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        } catch (e) {
          return reject(new Error(`openidd answered HTTP ${res.statusCode} with a body that is not JSON`));
        }
        if (res.statusCode === 200) return resolve(answer);
        const error = answer.error || {};
        reject(new OpenIddError(res.statusCode, error.code || 'unknown', error.message || ''));
      });
    });
    req.on('timeout', () => req.destroy(new Error('openidd did not answer in time')));
    req.on('error', reject);
    req.end(data);
  });
}

const authUrl = (userId, serialNo) =>
  call('POST', '/v1/auth-url', serialNo === undefined ? { userId } : { userId, serialNo }, 150_000);

async function getBinding(userId) {
  try {
    return await call('GET', `/v1/bindings?userId=${encodeURIComponent(userId)}`);
  } catch (e) {
    if (e instanceof OpenIddError && e.status === 404) return null; // not bound yet
    throw e;
  }
}

const waitFor = (serialNo, seconds = 60) =>
  call('GET', `/v1/requests/${encodeURIComponent(serialNo)}?wait=${seconds}`, undefined, (seconds + 30) * 1000);

async function main([command, operand, ...rest]) {
  if (!['auth-url', 'get', 'wait'].includes(command) || operand === undefined || rest.length > 0) {
    console.error('usage: node openidd_client.js auth-url USER_ID | get USER_ID | wait SERIAL_NO');
    return 2;
  }
  try {
    let result;
    if (command === 'auth-url') result = await authUrl(operand);
    else if (command === 'wait') result = await waitFor(operand);
    else {
      result = await getBinding(operand);
      if (result === null) {
        console.error(`no binding for userId ${operand} yet`);
        return 3;
      }
    }
    console.log(JSON.stringify(result));
    return 0;
  } catch (e) {
    console.error(e.message);
    return e instanceof OpenIddError && e.status === 404 ? 3 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}

module.exports = { call, authUrl, getBinding, waitFor, OpenIddError };
