// pages.test.mjs - bouncewhy's web pages in a real browser (Debian's
// Chromium, headless, driven by playwright-core), against the nginx +
// FastCGI stack that run.sh started. Prints TAP.
//
// Environment:
//   BW_URL         the stack, e.g. http://127.0.0.1:41234 (required)
//   BW_PORTAL_URL  a page of another origin that frames the embed widget
//   BW_OUT         folder for screenshots (created)
//   BW_SHARED      shared test data (a whole bounce email is taken from it)
//   CHROMIUM       the browser binary (default /usr/bin/chromium)

import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const BASE = process.env.BW_URL;
const PORTAL = process.env.BW_PORTAL_URL || "";
const OUT = process.env.BW_OUT || path.join(os.tmpdir(), "bw-browser-out");
const SHARED = process.env.BW_SHARED || "../shared";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// ---- a tiny TAP harness --------------------------------------------------

const tests = [];
function test(name, fn) {
	tests.push({ name, fn });
}
class Skip extends Error {}
function skip(why) {
	throw new Skip(why);
}
function assert(cond, msg) {
	if (!cond) {
		throw new Error(msg || "assertion failed");
	}
}
function eq(got, want, msg) {
	if (got !== want) {
		throw new Error(`${msg || "values differ"}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
	}
}

// ---- the four messages of the issue, and what they must give -------------

const MESSAGES = [
	{
		name: "reverse DNS",
		shot: "explain-rdns",
		text: "451 Bad reverse DNS.",
		reason: "requireptr",
		headline: /reverse DNS/i,
		badge: "Temporary",
		delist: null,
	},
	{
		name: "Barracuda",
		shot: "explain-barracuda",
		text: "blocked using b.barracudacentral.org; https://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1",
		reason: "blocked",
		headline: /block/i,
		badge: null,
		delist: /^https:\/\/www\.barracudanetworks\.com\/reputation\/\?pr=1&ip=192\.0\.2\.1$/,
	},
	{
		name: "Trend Micro",
		shot: "explain-trendmicro",
		text: "Mail from 192.0.2.1 deferred using Trend Micro Email Reputation database. Please see https://www.mail-abuse.com/cgi-bin/lookup?192.0.2.1",
		reason: null,
		headline: /./,
		badge: "Temporary",
		delist: /^https?:\/\/[^ ]*(trendmicro|mail-abuse)[^ ]*/i,
	},
	{
		name: "User defined policy",
		shot: "explain-policy",
		text: "553 User defined policy matched for 192.0.2.1",
		reason: null,
		headline: /./,
		badge: "Permanent",
		delist: null,
	},
];

// Text that must come out as text: markup, handlers, script URLs, quotes.
const HOSTILE = [
	"550 5.7.1 <script>window.__bwPwned = 1</script> rejected",
	"<img src=x onerror=\"window.__bwPwned = 2\">",
	"\"><svg onload=window.__bwPwned=3>",
	"see javascript:window.__bwPwned=4 and 'quoted' \"double\" `tick`",
	"blocked using b.barracudacentral.org; https://x.example/?a=\"onmouseover=alert(1)",
].join("\n");

// ---- helpers ---------------------------------------------------------------

async function axeCheck(page, label) {
	const res = await new AxeBuilder({ page }).analyze();
	const bad = res.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
	if (bad.length) {
		const lines = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`);
		throw new Error(`${label}: axe found ${bad.length} serious/critical violations:\n${lines.join("\n")}`);
	}
	return res.violations.length;
}

async function shot(page, name, opts = {}) {
	await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true, ...opts });
}

async function explain(page, text, audience) {
	await page.goto(`${BASE}/`);
	await page.fill("#bw-text", text);
	if (audience === "admin") {
		await page.check("input[name=audience][value=administrator]");
	}
	await Promise.all([page.waitForURL(`${BASE}/explain`), page.click("form.bw-form button[type=submit]")]);
}

// A whole bounce email of the shared corpus that its labels say is one
// unknown recipient, in a multipart/report (RFC 3464) email.
function findBounceEmail() {
	const root = path.join(SHARED, "testdata", "bounces");
	let labels;
	try {
		labels = fs.readFileSync(path.join(root, "labels.tsv"), "utf8").split("\n").slice(1).map((l) => l.split("\t"));
	} catch {
		return null;
	}
	const rows = new Map();
	for (const r of labels) {
		if (r.length < 3) continue;
		rows.set(r[0], (rows.get(r[0]) || []).concat([r]));
	}
	for (const [rel, rs] of rows) {
		if (!rel.startsWith("maildir/bsd/") || rs.length !== 1 || rs[0][2] !== "userunknown") continue;
		const p = path.join(root, "emails", rel);
		let s;
		try {
			if (fs.statSync(p).size > 100000) continue;
			s = fs.readFileSync(p, "utf8");
		} catch {
			continue;
		}
		if (/^Content-Type:\s*multipart\/report/im.test(s)) {
			return { name: rel, text: s };
		}
	}
	return null;
}

// ---- the tests -------------------------------------------------------------

test("home page: the form is there, labelled, and passes axe", async ({ page }) => {
	const resp = await page.goto(`${BASE}/`);
	eq(resp.status(), 200, "status");
	const csp = resp.headers()["content-security-policy"] || "";
	assert(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `CSP allows inline script: ${csp}`);
	assert(/frame-ancestors 'none'/.test(csp), `the site's pages must not be framed: ${csp}`);
	const label = await page.textContent("label[for=bw-text]");
	eq(label.trim(), "Paste the bounce message or the whole bounce email", "textarea label");
	assert(await page.isVisible("#bw-ip"), "IP field");
	assert(await page.isChecked("input[name=audience][value=customer]"), "customer is the default audience");
	await axeCheck(page, "home");
	await shot(page, "home");
});

for (const m of MESSAGES) {
	test(`explain: ${m.name}: headline, badge, steps${m.delist ? ", delist link" : ""}`, async ({ page }) => {
		await explain(page, m.text);
		const cards = page.locator("article.bw-card");
		assert((await cards.count()) >= 1, "at least one card");
		const card = cards.first();
		const headline = (await card.locator("h2").textContent()).trim();
		assert(m.headline.test(headline), `headline "${headline}" does not match ${m.headline}`);
		const badge = (await card.locator(".bw-badge").first().textContent()).trim();
		if (m.badge) eq(badge, m.badge, "badge");
		else assert(["Temporary", "Permanent"].includes(badge), `badge "${badge}"`);
		const who = (await card.locator(".bw-who dd").textContent()).trim();
		assert(who.length > 3, "who has to act");
		const steps = await card.locator("ol.bw-steps > li").count();
		assert(steps >= 1, "numbered steps");
		if (m.reason) {
			eq(await card.locator(".bw-more a").getAttribute("href"), `/kb/${m.reason}`, "reason (knowledge-base link)");
		}
		if (m.delist) {
			const a = card.locator(".bw-delist a");
			eq(await a.count(), 1, "delist link");
			const href = await a.getAttribute("href");
			assert(m.delist.test(href), `delist href ${href}`);
		}
		const mark = await card.locator("pre.bw-original mark").count();
		assert(mark === 1, "the matched part is highlighted");
		const copy = await card.locator(".bw-copy textarea").inputValue();
		assert(copy.includes(headline) && /What to do:\n1\. /.test(copy), "copy block has headline and numbered steps");
		await axeCheck(page, m.name);
		await shot(page, m.shot);
	});
}

test("explain: administrator audience gets the administrator's steps", async ({ page }) => {
	await explain(page, "451 Bad reverse DNS.");
	const user = await page.locator("ol.bw-steps").first().innerText();
	await explain(page, "451 Bad reverse DNS.", "admin");
	const admin = await page.locator("ol.bw-steps").first().innerText();
	assert(user !== admin, "steps differ by audience");
	assert(await page.isChecked("input[name=audience][value=administrator]"), "form remembers the audience");
});

test("explain: a whole bounce email", async ({ page }) => {
	const mail = findBounceEmail();
	if (!mail) skip(`no labelled multipart/report bounce in ${SHARED}/testdata/bounces`);
	await explain(page, mail.text);
	const n = await page.locator("article.bw-card").count();
	assert(n >= 1, `${mail.name}: no card`);
	const href = await page.locator("article.bw-card .bw-more a").first().getAttribute("href");
	eq(href, "/kb/userunknown", `${mail.name}: reason`);
	await shot(page, "explain-email");
});

test("explain: GET /explain?text= renders the same page", async ({ page }) => {
	const resp = await page.goto(`${BASE}/explain?text=${encodeURIComponent("451 Bad reverse DNS.")}`);
	eq(resp.status(), 200, "status");
	assert(/reverse DNS/i.test(await page.locator("article.bw-card h2").first().textContent()), "headline");
});

test("the copy button copies the explanation (JavaScript on)", async ({ page, context }) => {
	await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
	await explain(page, "553 User defined policy matched for 192.0.2.1");
	const button = page.locator(".bw-copy button");
	eq(await button.count(), 1, "one copy button per card");
	await button.click();
	await page.waitForFunction(() => document.querySelector(".bw-copied")?.textContent === "Copied");
	const clip = await page.evaluate(() => navigator.clipboard.readText());
	assert(clip.startsWith("Why the email bounced:"), `clipboard: ${clip.slice(0, 60)}`);
});

test("works with JavaScript off: form post and result", async ({ browser }) => {
	const ctx = await browser.newContext({ javaScriptEnabled: false });
	const page = await ctx.newPage();
	try {
		await explain(page, "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown");
		assert((await page.locator("article.bw-card").count()) >= 1, "card without JS");
		eq(await page.locator(".bw-copy button").count(), 0, "no copy button without JS");
		assert((await page.locator(".bw-copy textarea").inputValue()).length > 20, "copy text still there");
	} finally {
		await ctx.close();
	}
});

test("hostile input is shown as text and nothing runs", async ({ page }) => {
	const dialogs = [];
	page.on("dialog", async (d) => {
		dialogs.push(d.message());
		await d.dismiss();
	});
	await explain(page, HOSTILE);
	await page.waitForTimeout(300);
	eq(await page.evaluate(() => window.__bwPwned), undefined, "injected script ran");
	eq(dialogs.length, 0, "a dialog opened");
	eq(await page.locator("main img, main svg, main script").count(), 0, "markup from the input became elements");
	const bad = await page.evaluate(() =>
		[...document.querySelectorAll("a[href]")].map((a) => a.getAttribute("href")).filter((h) => /^\s*javascript:/i.test(h) || /["<>]/.test(h)));
	eq(bad.length, 0, `unsafe links: ${bad.join(" ")}`);
	const handlers = await page.evaluate(() =>
		[...document.querySelectorAll("*")].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length);
	eq(handlers, 0, "elements with on* attributes");
	const shown = await page.locator("#bw-text").inputValue();
	eq(shown, HOSTILE, "the form gives the text back unchanged");
	const pre = await page.locator("pre.bw-original").allTextContents();
	assert(pre.some((t) => t.includes("<script>window.__bwPwned = 1</script>") || t.includes("<img src=x")), "the original text is shown literally");

	// hostile IP field and path
	await page.goto(`${BASE}/`);
	await page.fill("#bw-ip", "\"><script>window.__bwPwned=5</script>");
	await page.click("form.bw-form button[type=submit]");
	await page.waitForLoadState();
	eq(await page.evaluate(() => window.__bwPwned), undefined, "IP field script ran");
	await page.goto(`${BASE}/kb/%3Cscript%3Ewindow.__bwPwned=6%3C%2Fscript%3E`);
	eq(await page.evaluate(() => window.__bwPwned), undefined, "path script ran");
	await page.goto(`${BASE}/ip/%22onmouseover=alert(1)%20x=%22`);
	eq(await page.evaluate(() => window.__bwPwned), undefined, "ip path script ran");
	eq(dialogs.length, 0, "a dialog opened");
	await shot(page, "hostile-ip");
});

test("IP check: the form's IP field leads to /ip/{ip} with a blocklist table", async ({ page }) => {
	await page.goto(`${BASE}/`);
	await page.fill("#bw-ip", " 127.0.0.2 ");
	await Promise.all([page.waitForURL(/\/ip\//), page.click("form.bw-form button[type=submit]")]);
	const url = new URL(page.url());
	const status = (await page.request.get(page.url())).status();
	if (status === 422) skip("the stack refuses private addresses (no --allow-private)");
	eq(url.pathname, "/ip/127.0.0.2", "redirect target");
	assert(/127\.0\.0\.2/.test(await page.textContent("h1")), "heading names the IP");
	const rows = await page.locator("table.bw-table tbody tr").count();
	assert(rows >= 1, "blocklist rows");
	// listed first: no listed row after an unlisted one
	const listed = await page.locator("table.bw-table tbody tr").evaluateAll((trs) => trs.map((t) => t.classList.contains("bw-listed")));
	const firstUnlisted = listed.indexOf(false);
	assert(firstUnlisted === -1 || !listed.slice(firstUnlisted).includes(true), "listed rows come first");
	await axeCheck(page, "ip");
	await shot(page, "ip");
});

test("knowledge base: index, a reason, a blocklist", async ({ page }) => {
	let resp = await page.goto(`${BASE}/kb/`);
	eq(resp.status(), 200, "index status");
	assert((await page.locator(".bw-kb-list li").count()) >= 30, "every reason listed");
	await axeCheck(page, "kb index");
	await shot(page, "kb-index");
	await page.click("a[href='/kb/userunknown']");
	await page.waitForURL(`${BASE}/kb/userunknown`);
	assert((await page.locator("ol.bw-steps li").count()) >= 2, "steps for both audiences");
	assert(!/\{(ip|recipient|blocklist)\}/.test(await page.textContent("main")), "placeholders are filled with words");
	await axeCheck(page, "kb reason");
	await shot(page, "kb-reason");
	resp = await page.goto(`${BASE}/kb/blocklist/barracuda`);
	eq(resp.status(), 200, "blocklist status");
	await axeCheck(page, "kb blocklist");
	resp = await page.goto(`${BASE}/kb/nosuchreason`);
	eq(resp.status(), 404, "unknown reason");
	await axeCheck(page, "404");
});

test("content negotiation: Accept and ?format=", async ({ page }) => {
	const api = page.request;
	let r = await api.get(`${BASE}/explain?text=${encodeURIComponent("451 Bad reverse DNS.")}`, { headers: { Accept: "application/json" } });
	assert(r.headers()["content-type"].startsWith("application/json"), "Accept: application/json gives JSON");
	const j = await r.json();
	eq(j.findings[0].reason, "requireptr", "JSON finding");
	r = await api.get(`${BASE}/explain?format=fragment&text=${encodeURIComponent("451 Bad reverse DNS.")}`);
	const frag = await r.text();
	assert(r.headers()["content-type"].startsWith("text/html") && !/<html/i.test(frag) && /bw-card/.test(frag), "fragment");
	r = await api.get(`${BASE}/kb/blocked?format=json`, { headers: { Accept: "text/html" } });
	assert(r.headers()["content-type"].startsWith("application/json"), "?format=json beats Accept");
	r = await api.get(`${BASE}/kb/blocked`, { headers: { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
	assert(r.headers()["content-type"].startsWith("text/html"), "a browser's Accept gives HTML");
});

test("print view keeps the explanation and drops the form", async ({ page }) => {
	await explain(page, "blocked using b.barracudacentral.org; https://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1");
	await page.emulateMedia({ media: "print" });
	assert(!(await page.isVisible("form.bw-form")), "form hidden in print");
	assert(!(await page.isVisible("header.bw-site")), "site header hidden in print");
	assert(await page.isVisible("article.bw-card ol.bw-steps"), "steps printed");
	await shot(page, "print");
	await page.emulateMedia({ media: "screen" });
});

test("phone-sized screen: no horizontal scrolling", async ({ browser }) => {
	const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
	const page = await ctx.newPage();
	try {
		for (const [p, name] of [["/", "phone-home"], [`/explain?text=${encodeURIComponent(MESSAGES[1].text)}`, "phone-explain"]]) {
			await page.goto(`${BASE}${p}`);
			const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
			assert(over <= 1, `${p}: page is ${over}px wider than the screen`);
			await shot(page, name);
		}
	} finally {
		await ctx.close();
	}
});

test("embed: the widget frames /embed/explain from another origin and sizes it", async ({ page }) => {
	if (!PORTAL) skip("no BW_PORTAL_URL");
	const resp = await page.request.get(`${BASE}/embed/explain`);
	const csp = resp.headers()["content-security-policy"] || "";
	assert(/frame-ancestors/.test(csp) && !/frame-ancestors 'none'/.test(csp), `embed CSP: ${csp}`);
	assert(!resp.headers()["x-frame-options"], "embed pages must not send X-Frame-Options");
	await page.goto(PORTAL);
	const frameEl = page.locator("#explain-widget iframe");
	await frameEl.waitFor();
	const frame = page.frameLocator("#explain-widget iframe");
	await frame.locator("#bw-text").waitFor();
	eq(await frame.locator("header.bw-site").count(), 0, "no site chrome in the embed");
	await frame.locator("#bw-text").fill("550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table");
	await frame.locator("form.bw-form button[type=submit]").click();
	await frame.locator("article.bw-card").first().waitFor();
	// the frame reports its height; the widget grows the iframe to it
	await page.waitForFunction(() => {
		const f = document.querySelector("#explain-widget iframe");
		return f && f.getBoundingClientRect().height > 500;
	}, null, { timeout: 5000 });
	const kb = page.frameLocator("#kb-widget iframe");
	await kb.locator("h1").waitFor();
	assert(/address does not exist/i.test(await kb.locator("h1").textContent()), "kb embed heading");
	await axeCheck(page, "portal with embeds");
	// Chromium paints out-of-process frames only inside the viewport
	await page.setViewportSize({ width: 1000, height: 2400 });
	await page.waitForTimeout(300);
	await shot(page, "embed-portal", { fullPage: false });
});

test("every page answers without a server error", async ({ page }) => {
	for (const p of ["/", "/explain", "/kb/", "/kb/blocked", "/kb/blocklist/spamhaus-zen", "/embed/explain", "/embed/kb/blocked", "/embed/kb/nosuch", "/explain?text=hello", "/ip/not-an-ip"]) {
		const r = await page.request.get(`${BASE}${p}`);
		assert(r.status() < 500, `${p}: ${r.status()}`);
	}
});

// ---- run -------------------------------------------------------------------

async function main() {
	if (!BASE) {
		console.log("1..0 # SKIP BW_URL not set");
		return 0;
	}
	fs.mkdirSync(OUT, { recursive: true });
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), "bw-chromium-"));
	let context;
	try {
		context = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM,
			headless: true,
			args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
			viewport: { width: 1200, height: 900 },
		});
	} catch (e) {
		console.log("1..1");
		console.log(`not ok 1 - start Chromium (${CHROMIUM})`);
		console.log(`# ${String(e.message).split("\n").join("\n# ")}`);
		return 1;
	}
	// A persistent context has no browser object to make more contexts from;
	// launch a second (non-persistent) browser for the tests that need their own.
	const extra = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
	});
	let failed = 0;
	console.log(`1..${tests.length}`);
	for (let i = 0; i < tests.length; i++) {
		const t = tests[i];
		const page = await context.newPage();
		const errors = [];
		page.on("pageerror", (e) => errors.push(String(e)));
		page.on("console", (m) => {
			if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) errors.push(m.text());
		});
		try {
			await t.fn({ page, context, browser: extra });
			if (errors.length) throw new Error(`page errors: ${errors.join(" | ")}`);
			console.log(`ok ${i + 1} - ${t.name}`);
		} catch (e) {
			if (e instanceof Skip) {
				console.log(`ok ${i + 1} - ${t.name} # SKIP ${e.message}`);
			} else {
				failed++;
				console.log(`not ok ${i + 1} - ${t.name}`);
				console.log(`# ${String(e.stack || e).split("\n").slice(0, 8).join("\n# ")}`);
			}
		} finally {
			await page.close().catch(() => {});
		}
	}
	await context.close();
	await extra.close();
	fs.rmSync(profile, { recursive: true, force: true });
	return failed ? 1 : 0;
}

main().then((rc) => process.exit(rc), (e) => {
	console.log(`# ${e.stack || e}`);
	process.exit(1);
});
