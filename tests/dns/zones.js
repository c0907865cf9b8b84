// zones.js - print the dnsmasq lines that make the zones of the given
// blocklists files answer like real lists: NXDOMAIN below every zone, and
// the RFC 5782 test point 127.0.0.2 listed (127.0.0.1 is then NXDOMAIN).
// Zones named in --skip (comma-separated; they and the names below them)
// are left out: start.sh sends those to other servers.
// Usage: node zones.js [--skip Z1,Z2] FILE... (missing files are skipped)
'use strict';
const fs = require('fs');
const seen = new Set();
let args = process.argv.slice(2), skip = [];
if (args[0] === '--skip') {
	skip = args[1].toLowerCase().split(',').filter(Boolean);
	args = args.slice(2);
}
for (const f of args) {
	let doc;
	try {
		doc = JSON.parse(fs.readFileSync(f, 'utf8'));
	} catch (e) {
		if (e.code === 'ENOENT')
			continue;
		throw e;
	}
	for (const bl of doc.blocklists || [])
		for (const z of bl.zones || []) {
			const zone = String(z.zone || '').toLowerCase().replace(/\.$/, '');
			if (!/^[a-z0-9.-]+$/.test(zone) || seen.has(zone) ||
			    skip.some((s) => zone === s || zone.endsWith('.' + s)))
				continue;
			seen.add(zone);
			console.log(`local=/${zone}/`);
			console.log(`address=/2.0.0.127.${zone}/127.0.0.2`);
			console.log(`txt-record=2.0.0.127.${zone},"test point of ${zone}"`);
		}
}
