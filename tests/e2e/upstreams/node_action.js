// An OpenWhisk-style action container for the invoker simulation: POST /run with a JSON body, answered in JSON.
// Usage: node node_action.js KEEPALIVE_MS  -> prints "listening PORT" on stdout.
// Each answer names the connection it came on (numbered from 1 in accept order) and how many were accepted, so a
// test can tell a reused connection from a new one and count connections per activation from the server's side.
// Node 20 closes an idle keep-alive connection keepAliveTimeout + 1000 ms after its last response (a hidden buffer,
// settable only from Node 24, as keepAliveTimeoutBuffer): each response re-arms the socket's timer to exactly
// KEEPALIVE_MS, so the server closes idle connections when it says it will.
const http = require('http');
const ka = parseInt(process.argv[2] || '1000', 10);
let activations = 0;
let accepted = 0;
const server = http.createServer((req, res) => {
  const socket = req.socket;
  socket.berthBusy = (socket.berthBusy || 0) + 1;
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let status = 200;
    let out;
    try {
      const input = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      activations += 1;
      out = JSON.stringify({ ok: true, activation: activations, echo: input.value === undefined ? null : input.value,
                             connection: socket.berthId, accepted });
    } catch (e) {
      status = 400;
      out = JSON.stringify({ ok: false, error: String(e) });
    }
    res.on('finish', () => {
      socket.berthBusy -= 1;
      // Node arms keepAliveTimeout + 1000 ms after the 'finish' listeners have run: re-arm it to exactly ka.
      setImmediate(() => { if (!socket.destroyed && socket.berthBusy === 0) socket.setTimeout(ka); });
    });
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
    res.end(out);
  });
});
server.on('connection', (s) => { accepted += 1; s.berthId = accepted; });
server.keepAliveTimeout = ka;
server.listen(0, '127.0.0.1', () => { console.log('listening ' + server.address().port); });
