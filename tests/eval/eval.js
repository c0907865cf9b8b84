#!/usr/bin/env node
/*
 * eval.js - score bouncewhy on a labelled corpus of bounce emails.
 *
 *   node tests/eval/eval.js [--corpus DIR] [--labels FILE] [--floor R,S]
 *                           [--build DIR] [--rules DIR] [--quiet] [--tap]
 *
 * Runs `$BUILD/bouncewhy explain --ndjson FILE...` over every file of the
 * corpus and compares the findings with labels.tsv (relative_path,
 * rcpt_index, reason, deliverystatus, replycode, smtpagent, diagnosticcode).
 * Recipients are matched by order within a file; rcpt_index counts on across
 * the messages of an mbox. Rows whose reason is "(none)" are left out of the
 * scores. Checks besides the scores:
 *   - mailbox/size-* and the files of maildir/not labelled "(none)" only must
 *     give no finding;
 *   - every CR-only file (maildir/mac/X) gives the same findings as its LF
 *     twin (maildir/bsd/X, else the CRLF one in maildir/dos/X);
 *   - no file crashes the CLI or takes longer than the time limit.
 * Status agreement counts rows whose label has a real status code: the
 * reference's own pseudo codes (X.0.9NN) are not RFC 3463 codes and are
 * left out.
 *
 * Prints the report as TAP comments and four TAP test lines; exits 1 when a
 * check fails or an agreement is below the floor (default 97,95).
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const opt = {
	build: process.env.BUILD || 'build',
	corpus: process.env.CORPUS || '',
	labels: process.env.LABELS || '',
	rules: process.env.BOUNCEWHY_RULES || path.join(root, 'rules'),
	floor: [97, 95],
	quiet: false,
	maxList: 200,
};
for (let i = 0; i < args.length; i++) {
	const a = args[i];
	const val = () => {
		if (i + 1 >= args.length) {
			console.error(`eval: ${a} needs a value`);
			process.exit(2);
		}
		return args[++i];
	};
	if (a === '--corpus') opt.corpus = val();
	else if (a === '--labels') opt.labels = val();
	else if (a === '--build') opt.build = val();
	else if (a === '--rules') opt.rules = val();
	else if (a === '--quiet') opt.quiet = true;
	else if (a === '--tap') { /* the output is TAP already (report lines are comments) */ }
	else if (a === '--floor') {
		const f = val().split(',').map(Number);
		if (f.length !== 2 || f.some((x) => !Number.isFinite(x))) {
			console.error('eval: --floor REASON_PCT,STATUS_PCT');
			process.exit(2);
		}
		opt.floor = f;
	} else if (a === '-h' || a === '--help') {
		console.log('usage: eval.js [--corpus DIR] [--labels FILE] [--floor R,S] [--build DIR] [--rules DIR] [--quiet] [--tap]');
		process.exit(0);
	} else {
		console.error(`eval: unknown argument ${a}`);
		process.exit(2);
	}
}
const shared = process.env.BW_SHARED || path.join(root, '..', 'shared');
if (!opt.corpus) opt.corpus = path.join(shared, 'testdata', 'bounces', 'emails');
if (!opt.labels) opt.labels = path.join(opt.corpus, '..', 'labels.tsv');
const cli = path.resolve(root, opt.build, 'bouncewhy');

const say = (s) => { if (!opt.quiet) console.log(s.split('\n').map((l) => '# ' + l).join('\n')); };
const TESTS = ['corpus reason agreement', 'corpus status agreement',
	'CR-only files give the findings of their LF twins',
	'no crash, no hang, no finding in non-bounces'];

if (!fs.existsSync(opt.corpus) || !fs.existsSync(opt.labels)) {
	console.log(`1..${TESTS.length}`);
	TESTS.forEach((t, i) => console.log(`ok ${i + 1} # SKIP no corpus at ${opt.corpus}`));
	process.exit(0);
}
if (!fs.existsSync(cli)) {
	console.error(`eval: ${cli} not built (make BUILD=${opt.build})`);
	process.exit(2);
}

/* ---- the corpus and its labels */
function walk(dir, rel, out) {
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const r = rel ? rel + '/' + e.name : e.name;
		if (e.isDirectory()) walk(path.join(dir, e.name), r, out);
		else if (e.isFile()) out.push(r);
	}
	return out;
}
const files = walk(opt.corpus, '', []).sort();
const labels = new Map();
for (const line of fs.readFileSync(opt.labels, 'utf8').split('\n').slice(1)) {
	if (!line.trim()) continue;
	const c = line.split('\t');
	const row = { file: c[0], idx: Number(c[1]), reason: c[2], status: c[3] || '',
		reply: c[4] || '', agent: c[5] || '', diag: c[6] || '' };
	if (!labels.has(row.file)) labels.set(row.file, []);
	labels.get(row.file).push(row);
}

/* ---- run the CLI: many files per process, one JSON line each */
const TIME_PER_FILE_MS = 5000;
const results = new Map();	/* rel -> {findings} | {error} */
const problems = [];
function runChunk(chunk) {
	const abs = chunk.map((f) => path.join(opt.corpus, f));
	const r = spawnSync(cli, ['--rules', opt.rules, 'explain', '--ndjson', ...abs], {
		encoding: 'utf8', maxBuffer: 1 << 30,
		timeout: 300000 + 1000 * chunk.length,
	});
	const got = new Map();
	for (const line of (r.stdout || '').split('\n')) {
		if (!line) continue;
		let o;
		try { o = JSON.parse(line); } catch (e) { continue; }
		if (!o.file) continue;
		/* an mbox gives one line per message: a file's findings are all of them */
		const rel = path.relative(opt.corpus, o.file);
		const prev = got.get(rel);
		if (prev && Array.isArray(prev.findings) && Array.isArray(o.findings))
			prev.findings.push(...o.findings);
		else
			got.set(rel, o);
	}
	const broken = r.error || r.signal || (r.status !== 0 && r.status !== 1);
	return { got, broken, r };
}
const t0 = Date.now();
const CHUNK = 5000;
for (let i = 0; i < files.length; i += CHUNK) {
	const chunk = files.slice(i, i + CHUNK);
	const { got, broken, r } = runChunk(chunk);
	if (got.size === 0 && r.status === 2 && i === 0) {
		/* the CLI did not start (rules that do not load, ...) */
		console.error(`eval: ${cli} failed: ${(r.stderr || '').trim()}`);
		console.log('1..1');
		console.log('not ok 1 - bouncewhy explain runs');
		process.exit(2);
	}
	for (const f of chunk) {
		if (got.has(f)) { results.set(f, got.get(f)); continue; }
		if (!broken) { results.set(f, { error: 'no output' }); continue; }
		/* the chunk died: run the missing files alone to name the culprit */
		const one = runChunk([f]);
		if (one.got.has(f)) results.set(f, one.got.get(f));
		else {
			const why = one.r.error ? String(one.r.error.code || one.r.error)
				: one.r.signal ? 'signal ' + one.r.signal : 'exit ' + one.r.status;
			results.set(f, { error: why });
			problems.push(`${f}: ${why}`);
		}
	}
}
const elapsed = (Date.now() - t0) / 1000;

/* ---- scoring */
const findingsOf = (f) => (results.get(f) && results.get(f).findings) || [];
const pct = (a, n) => (n ? (100 * a / n) : 100);
const fmt = (a, n) => `${a}/${n} (${pct(a, n).toFixed(1)}%)`;
const isPseudo = (s) => /^\d\.0\.9\d\d$/.test(s);
const perReason = new Map();
const confusion = new Map();
const disagreements = [];
let nR = 0, okR = 0, nS = 0, okS = 0, nC = 0, okC = 0;

for (const [file, rows] of labels) {
	if (!results.has(file)) continue;	/* labelled, not in this corpus */
	const fs_ = findingsOf(file);
	for (const row of rows) {
		if (row.reason === '(none)' || row.reason === 'reason') continue;
		const f = fs_[row.idx - 1];
		const got = f ? f.reason : '(no finding)';
		const smtp = (f && f.smtp) || {};
		const gotStatus = smtp.status || '';
		const gotReply = smtp.reply_code ? String(smtp.reply_code) : '';
		const pr = perReason.get(row.reason) || { n: 0, ok: 0 };
		pr.n++;
		nR++;
		const rOk = got === row.reason;
		if (rOk) { pr.ok++; okR++; } else {
			const k = `${row.reason} -> ${got}`;
			confusion.set(k, (confusion.get(k) || 0) + 1);
		}
		perReason.set(row.reason, pr);
		let sOk = true;
		if (row.status && !isPseudo(row.status)) {
			nS++;
			sOk = gotStatus === row.status;
			if (sOk) okS++;
		}
		if (row.reply) {
			nC++;
			if (gotReply === row.reply) okC++;
		}
		if (!rOk || !sOk) {
			disagreements.push(`${file} #${row.idx}: want ${row.reason} ${row.status || '-'}` +
				` got ${got} ${gotStatus || '-'}` +
				(f && f.recipient ? ` <${f.recipient}>` : '') +
				(f && f.matched && f.matched.rule ? ` rule=${f.matched.rule}` : '') +
				`\n    label: ${row.diag.slice(0, 120)}`);
		}
	}
}

/* files that must give nothing */
const quiet = [];
for (const f of files) {
	const rows = labels.get(f) || [];
	const none = rows.length > 0 && rows.every((r) => r.reason === '(none)');
	if ((/^mailbox\/size-/.test(f) || /^maildir\/not\//.test(f)) && (none || rows.length === 0)) {
		const n = findingsOf(f).length;
		if (n) quiet.push(`${f}: ${n} finding(s) in a file that is not a bounce`);
	}
}

/* CR-only twins */
const sig = (f) => JSON.stringify(findingsOf(f).map((x) => [x.reason, x.recipient || '',
	(x.smtp && x.smtp.status) || '', (x.smtp && x.smtp.reply_code) || 0]));
const twins = [];
let nTwin = 0;
for (const f of files) {
	const m = /^(.*)maildir\/mac\/(.*)$/.exec(f);
	if (!m) continue;
	let twin = `${m[1]}maildir/bsd/${m[2]}`;
	if (!results.has(twin)) twin = `${m[1]}maildir/dos/${m[2]}`;
	if (!results.has(twin)) continue;
	nTwin++;
	if (sig(f) !== sig(twin)) twins.push(`${f} != ${twin}\n    ${sig(f)}\n    ${sig(twin)}`);
}

/* ---- report */
say(`corpus ${opt.corpus}: ${files.length} files in ${elapsed.toFixed(2)} s`);
say('');
say('reason            agree');
for (const [r, v] of [...perReason].sort((a, b) => b[1].n - a[1].n))
	say(`${r.padEnd(17)} ${fmt(v.ok, v.n)}`);
say('');
say(`overall reason agreement: ${fmt(okR, nR)}`);
say(`delivery-status agreement: ${fmt(okS, nS)} (labels with a real status code)`);
say(`reply-code agreement: ${fmt(okC, nC)}`);
if (confusion.size) {
	say('');
	say('confusion (label -> bouncewhy):');
	for (const [k, v] of [...confusion].sort((a, b) => b[1] - a[1])) say(`  ${String(v).padStart(3)}  ${k}`);
}
if (disagreements.length) {
	say('');
	say(`disagreements (${disagreements.length}):`);
	for (const d of disagreements.slice(0, opt.maxList)) say('  ' + d);
}
for (const [title, list] of [['crashes or hangs', problems], ['findings in non-bounces', quiet],
	['CR-only files that differ from their LF twin', twins]]) {
	if (!list.length) continue;
	say('');
	say(`${title} (${list.length}):`);
	for (const d of list.slice(0, opt.maxList)) say('  ' + d);
}

const rp = pct(okR, nR), sp = pct(okS, nS);
const verdicts = [
	[rp >= opt.floor[0], `${TESTS[0]} ${rp.toFixed(1)}% >= ${opt.floor[0]}%`],
	[sp >= opt.floor[1], `${TESTS[1]} ${sp.toFixed(1)}% >= ${opt.floor[1]}%`],
	[twins.length === 0, `${TESTS[2]} (${nTwin - twins.length}/${nTwin})`],
	[problems.length === 0 && quiet.length === 0, TESTS[3]],
];
console.log(`1..${verdicts.length}`);
verdicts.forEach(([ok, name], i) => console.log(`${ok ? 'ok' : 'not ok'} ${i + 1} - ${name}`));
process.exit(verdicts.every((v) => v[0]) ? 0 : 1);
