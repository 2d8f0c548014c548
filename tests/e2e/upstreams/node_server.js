// Keep-alive HTTP/1.1 origin for berth's e2e freeze tests.
// Usage: node node_server.js KEEPALIVE_MS  -> prints "listening PORT" on stdout.
// GET /... answers "hello <path>"; POST echoes the body; /sleep/MS waits MS first.
const http = require('http');
const ka = parseInt(process.argv[2] || '5000', 10);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = req.method === 'POST' ? Buffer.concat(chunks) : Buffer.from('hello ' + req.url);
    const m = /^\/sleep\/(\d+)/.exec(req.url);
    const send = () => { res.writeHead(200, {'Content-Length': body.length, 'X-Origin': 'node'}); res.end(body); };
    if (m) setTimeout(send, parseInt(m[1], 10)); else send();
  });
});
server.keepAliveTimeout = ka;
server.listen(0, '127.0.0.1', () => { console.log('listening ' + server.address().port); });
