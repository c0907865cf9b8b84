// blackhole.js - misbehaving and slow DNS servers for the IP-check tests,
// all on 127.0.0.1 UDP:
//   drop     reads every query and never answers
//   servfail answers every query with SERVFAIL
//   slow     answers NXDOMAIN after a delay: 10 ms times N for a name with a
//            label "benchN" (bench/bench_ip.sh), at once otherwise
// Prints "DROP_PORT SERVFAIL_PORT SLOW_PORT" once all listen, then runs
// until killed. Usage: node blackhole.js
'use strict';
const dgram = require('dgram');

const drop = dgram.createSocket('udp4');
const fail = dgram.createSocket('udp4');
const slow = dgram.createSocket('udp4');
let ready = 0;

// The question's labels and the end of the first question, or null.
function question(msg) {
	const labels = [];
	let p = 12;
	while (p < msg.length && msg[p] !== 0) {
		const n = msg[p];
		if (n > 63 || p + 1 + n > msg.length)
			return null;
		labels.push(msg.toString('latin1', p + 1, p + 1 + n));
		p += n + 1;
	}
	p += 5;
	return p <= msg.length ? { labels, end: p } : null;
}

// A reply to msg with rcode and no records.
function reply(msg, q, rcode) {
	const out = Buffer.from(msg.subarray(0, q.end));
	out[2] = 0x80 | (msg[2] & 0x79);	// QR, keep opcode and RD
	out[3] = 0x80 | rcode;			// RA
	out.writeUInt16BE(1, 4);
	out.writeUInt16BE(0, 6);
	out.writeUInt16BE(0, 8);
	out.writeUInt16BE(0, 10);
	return out;
}

drop.on('message', () => { /* read and forget */ });
fail.on('message', (msg, rinfo) => {
	const q = msg.length >= 12 && question(msg);
	if (q)
		fail.send(reply(msg, q, 2), rinfo.port, rinfo.address);
});
slow.on('message', (msg, rinfo) => {
	const q = msg.length >= 12 && question(msg);
	if (!q)
		return;
	let delay = 0;
	for (const l of q.labels) {
		const m = /^bench(\d+)$/i.exec(l);
		if (m)
			delay = 10 * Number(m[1]);
	}
	setTimeout(() => slow.send(reply(msg, q, 3), rinfo.port, rinfo.address), delay);
});
function up() {
	if (++ready === 3)
		console.log(`${drop.address().port} ${fail.address().port} ${slow.address().port}`);
}
drop.bind(0, '127.0.0.1', up);
fail.bind(0, '127.0.0.1', up);
slow.bind(0, '127.0.0.1', up);
process.on('SIGTERM', () => process.exit(0));
