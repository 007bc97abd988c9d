import autocannon from '/work/main/node_modules/autocannon/autocannon.js';
let i = 0;
const t0 = performance.now();
const r = await autocannon({ url: 'http://127.0.0.1:3999', connections: 50, amount: 30000, requests: [{ method: 'POST', path: '/x', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: `s${i++}@b.edu` }) }) }] });
console.log('2xx', r['2xx'], 'duration', r.duration, 'wall', ((performance.now() - t0) / 1000).toFixed(2), 'rate(result)', r['2xx'] / r.duration, 'rate(wall)', r['2xx'] / ((performance.now() - t0) / 1000));
