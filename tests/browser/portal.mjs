// portal.mjs - a stand-in support portal on its own origin for the embed
// test: serves one page that uses bouncewhy's widget (static/embed.js) from
// the stack at BW_URL. Listens on 127.0.0.1 and a free port, prints the
// page's URL on stdout, runs until killed.
import http from "node:http";

const BASE = process.env.BW_URL;
if (!BASE) {
	console.error("portal.mjs: BW_URL not set");
	process.exit(2);
}
const esc = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example Hosting – Help centre</title>
<link rel="stylesheet" href="/portal.css">
</head>
<body>
<header><p class="logo">Example Hosting · Help centre</p></header>
<main>
<h1>My email came back</h1>
<p>Paste the message you got back below and we will tell you what happened.</p>
<div id="explain-widget" data-bouncewhy="explain"></div>
<h2>About unknown addresses</h2>
<div id="kb-widget" data-bouncewhy="kb/userunknown"></div>
</main>
<script src="${esc(BASE)}/static/embed.js" async></script>
</body>
</html>
`;
const css = `body{font:16px/1.5 Georgia,serif;margin:0;background:#eef1ea;color:#222}
header{background:#2d4a22;color:#fff;padding:.5rem 1.5rem}.logo{margin:0;font-weight:bold}
main{max-width:56rem;margin:0 auto;padding:1rem 1.5rem}
#explain-widget,#kb-widget{background:#fff;border:1px solid #b9c4b0;border-radius:8px;margin:1rem 0;overflow:hidden}`;

const server = http.createServer((req, res) => {
	if (req.url === "/portal.css") {
		res.writeHead(200, { "Content-Type": "text/css" });
		res.end(css);
		return;
	}
	if (req.url === "/" || req.url.startsWith("/?")) {
		res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
		res.end(page);
		return;
	}
	res.writeHead(404, { "Content-Type": "text/plain" });
	res.end("not found\n");
});
server.listen(0, "127.0.0.1", () => {
	console.log(`http://127.0.0.1:${server.address().port}/`);
});
for (const sig of ["SIGTERM", "SIGINT"]) {
	process.on(sig, () => server.close(() => process.exit(0)));
}
