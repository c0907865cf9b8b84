#!/bin/bash
# seeds.sh - write the seed corpora of the fuzz targets from the project's
# own data, at build time (nothing of it is committed).
#
# Usage: fuzz/seeds.sh OUT_DIR
# Writes OUT_DIR/NAME/ for text, email, form, tpl and ip: the examples of
# rules/*.json (one file each, extracted with jq), tests/cases/ inputs, a
# sample of the shared bounce corpus ($BW_SHARED/testdata/bounces/emails)
# when present, the templates, and a few hand-made request strings and IPs.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: seeds.sh OUT_DIR}
shared=${BW_SHARED:-$root/../shared}
mkdir -p "$out"/{text,email,form,tpl,ip}

# put DIR NAME: stdin to DIR/NAME
put() { cat >"$out/$1/$2"; }

# Rule examples: one per file, for the text and email targets.
i=0
jq -r '.. | objects | .examples? // empty | .[]? | strings | @base64' "$root"/rules/*.json |
while read -r b; do
	i=$((i + 1))
	printf '%s' "$b" | base64 -d | put text "rule-$i"
	[ $((i % 4)) -eq 0 ] && printf '%s' "$b" | base64 -d | put email "rule-$i"
done

# Golden cases of the project, when there are any.
if [ -d "$root/tests/cases" ]; then
	find "$root/tests/cases" -type f -size -64k | head -200 | while read -r f; do
		cp "$f" "$out/email/case-$(printf '%s' "$f" | cksum | cut -d' ' -f1)"
	done
fi

# A sample of the shared corpus: the smaller emails, enough to teach the
# fuzzer MIME, DSN parts and mbox framing without slowing every run.
emails="$shared/testdata/bounces/emails"
if [ -d "$emails" ]; then
	find "$emails" -type f -size -24k | sort | awk 'NR % 5 == 1' | head -80 | while read -r f; do
		cp "$f" "$out/email/shared-$(printf '%s' "$f" | cksum | cut -d' ' -f1)"
	done
fi
printf 'From MAILER-DAEMON Thu Jan  1 00:00:00 2024\nFrom: MAILER-DAEMON@example.com\nSubject: Undelivered\n\n550 5.1.1 user unknown\n\nFrom x@example.com Thu Jan  1 00:00:01 2024\nSubject: second\n\n452 4.2.2 mailbox full\n' | put email mbox-2
printf 'From: MAILER-DAEMON@example.com\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no such user\n--b--\n' | put email dsn-min

# Request strings: "Accept header\nquery or form body".
printf 'text/html\ntext=550+5.1.1%%20user&format=json' | put form a
printf 'application/json, text/html;q=0.9\naudience=admin&ip=192.0.2.1;x=%%41' | put form b
printf '\nformat=fragment&&=&a' | put form c
printf '*/*\n%%e2%%82%%ac=%%ff' | put form d

# Templates: the project's own.
for t in "$root"/templates/*.mustache; do
	cp "$t" "$out/tpl/$(basename "$t" .mustache)"
done
printf '{{#list}}{{name}}{{#tags}}{{.}}{{/tags}}{{/list}}{{^no}}n{{/no}}{{>p}}{{! c }}{{obj.inner.deep}}' | put tpl mixed

# IP addresses, as bounces write them, and the ones in rule examples.
for ip in 192.0.2.1 0.0.0.0 255.255.255.255 '[198.51.100.7]' '[IPv6:2001:db8::1]' \
	'IPv6:2001:db8::1' 'fe80::1%eth0' '::ffff:192.0.2.1' '::' '::1' \
	'2001:db8:0:0:1:0:0:1' '1:2:3:4:5:6:7:8' '64:ff9b::192.0.2.33' ' 10.0.0.1 ' \
	'01.2.3.4' '1.2.3' 'fc00::/7'; do
	printf '%s' "$ip" | put ip "ip-$(printf '%s' "$ip" | cksum | cut -d' ' -f1)"
done
jq -r '.. | objects | .examples? // empty | .[]? | strings' "$root"/rules/*.json |
	grep -oE '([0-9]{1,3}\.){3}[0-9]{1,3}|[0-9a-fA-F:]*::[0-9a-fA-F:.]*' | sort -u | head -50 |
	while read -r ip; do
		printf '%s' "$ip" | put ip "rule-$(printf '%s' "$ip" | cksum | cut -d' ' -f1)"
	done
