// The compat suite's Node app: the plain http module. Same endpoints as apps/wsgi/app.py:
// /, /health, /slow?ms=N|until=FILE[&mark=FILE], POST /echo; every answer carries X-Pid.
// Usage: node server.js PORT [PIDFILE]
'use strict';
const fs = require('fs');
const http = require('http');

const [port, pidfile] = process.argv.slice(2);

function answer(res, body, status = 200) {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), 'X-Pid': process.pid });
  res.end(body);
}

function slow(q, done) {
  if (q.get('mark')) fs.writeFileSync(q.get('mark'), '');
  const until = q.get('until');
  if (!until) return setTimeout(done, Number(q.get('ms') || 1000));
  const deadline = Date.now() + 60000;
  const poll = () => (fs.existsSync(until) || Date.now() > deadline ? done() : setTimeout(poll, 10));
  poll();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  if (url.pathname === '/health') return answer(res, 'ok\n');
  if (url.pathname === '/slow') return slow(url.searchParams, () => answer(res, `slow done, pid ${process.pid}\n`));
  if (url.pathname === '/echo' && req.method === 'POST') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    return req.on('end', () => answer(res, Buffer.concat(chunks)));
  }
  if (url.pathname === '/') return answer(res, `hello from pid ${process.pid}\n`);
  return answer(res, 'not found\n', 404);
});

server.listen(Number(port), '127.0.0.1', () => {
  if (pidfile) fs.writeFileSync(pidfile, `${process.pid}\n`);
});

// Node has no graceful stop of its own: SIGTERM's default kills the process, requests and all.
// close() stops accepting and ends idle keep-alive connections (Node 19+); busy ones end after
// their response, and the process exits once the last one is gone.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
