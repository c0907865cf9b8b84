// probe.js - exit 0 once the DNS server at 127.0.0.1:PORT answers a query
// for NAME (A), within about 5 seconds. Usage: node probe.js PORT NAME
'use strict';
const { Resolver } = require('dns');
const port = process.argv[2], name = process.argv[3] || 'mail.good.test';
const r = new Resolver({ timeout: 300, tries: 1 });
r.setServers([`127.0.0.1:${port}`]);
let tries = 0;
(function ask() {
	r.resolve4(name, (err) => {
		if (!err || err.code === 'ENOTFOUND' || err.code === 'ENODATA')
			process.exit(0);
		if (++tries > 15)
			process.exit(1);
		setTimeout(ask, 300);
	});
})();
