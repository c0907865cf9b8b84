/*
 * ipcheck.h - "is this IP the reason our mail bounces?": reverse DNS
 * (PTR names, forward confirmation, generic-looking names) and every DNS
 * blocklist of the knowledge base, asked in parallel with c-ares under one
 * overall deadline, each answer explained.
 *
 * Call it from any thread: each call makes its own c-ares channel; the only
 * shared state is the optional bw_ipcache (mutex inside) and the immutable
 * knowledge base. The call blocks for at most the deadline (plus the time
 * to build the answer). c-ares needs no global initialisation on POSIX
 * systems; a program may still call ares_library_init() once in main().
 *
 * The answer (a new JSON object, see docs of bw_ipcheck_run):
 *   {"api_version", "ip", "family": "ipv4"|"ipv6", "class", "resolver",
 *    "timeout_ms", "cached",
 *    "reverse_dns": {"query", "status", "reason", "ptr": [names],
 *                    "forward_confirmed", "generic", "cached",
 *                    "names": [{"name", "forward": [addresses],
 *                               "forward_status", "forward_confirmed",
 *                               "generic", "generic_reason"}]},
 *    "listings": [{"id", "name", "zone", "query", "listed", "status",
 *                  "reason", "codes": [{"code", "meaning"}], "txt",
 *                  "lookup_url", "delist_url", "elapsed_ms", "cached"}],
 *    "summary": {"checked", "listed", "not_listed", "errors", "timeouts",
 *                "elapsed_ms"}}
 * status of a listing: "listed", "not_listed", "error" (SERVFAIL, REFUSED,
 * an error code of the list such as 127.255.255.254, an answer outside
 * 127.0.0.0/8), "timeout"; "reason" says why for the last two (null
 * otherwise). "txt" is the list's TXT text for a listed IP or null.
 * reverse_dns.status: "ok", "none" (no PTR), "error", "timeout".
 */
#ifndef BW_IPCHECK_H
#define BW_IPCHECK_H

#include <jansson.h>

#include "bouncewhy.h"
#include "dnscache.h"
#include "ipaddr.h"

#define BW_IPCHECK_TIMEOUT_DEFAULT_MS 3000u
#define BW_IPCHECK_TIMEOUT_MAX_MS 30000u
/* PTR names beyond this many are listed but not forward-checked. */
#define BW_IPCHECK_MAX_PTR 8

/*
 * What went wrong when bw_ipcheck_run returns NULL (its *code out-param).
 * Fronts map them: EMALFORMED -> HTTP 400 / CLI exit 2, ENOTPUBLIC -> 422
 * ("not a public address; blocklists do not list it") / exit 2, EOPTION ->
 * 400 when the option came from the request, 500 when from the server's
 * configuration, ERESOLVER -> 503, ENOMEM -> 500. bw_ipcheck_http_status
 * does the HTTP part.
 */
enum bw_ipcheck_code {
	BW_IPCHECK_OK = 0,
	BW_IPCHECK_EMALFORMED,	/* not an IPv4/IPv6 address */
	BW_IPCHECK_ENOTPUBLIC,	/* private, loopback, documentation, ... */
	BW_IPCHECK_EOPTION,	/* bad resolver list or timeout */
	BW_IPCHECK_ERESOLVER,	/* c-ares could not be set up */
	BW_IPCHECK_ENOMEM
};

typedef struct bw_ipcheck_opts {
	const char *servers;	/* "host:port,[v6]:port,..." or NULL: system */
	unsigned timeout_ms;	/* overall deadline; 0: the default */
	int allow_private;	/* 1: check non-public addresses too (tests) */
	int lenient;		/* 1: accept "[IPv6:...]" etc. (bounce text) */
} bw_ipcheck_opts;

/*
 * bw_ipcheck_run - check ip (NUL-terminated text) against the blocklists of
 * kb (every zone with "query": true of a "dnsbl" list that takes the
 * address's family) and look up its reverse DNS. o may be NULL (defaults);
 * cache may be NULL (no caching). Returns a new JSON object (see above), or
 * NULL with *code (when code is not NULL) set to an enum bw_ipcheck_code and
 * err (when not NULL) holding a one-line reason. Network trouble is not an
 * error of the call: it shows per listing as "error" / "timeout".
 * Thread-safe.
 */
json_t *bw_ipcheck_run(const bw_kb *kb, bw_ipcache *cache, const char *ip,
		       const bw_ipcheck_opts *o, int *code, bw_error *err);

/* bw_ipcheck_run_lists - the same with the blocklists array given directly
 * (borrowed; the shape of blocklists.json's "blocklists"). */
json_t *bw_ipcheck_run_lists(const json_t *blocklists, bw_ipcache *cache,
			     const char *ip, const bw_ipcheck_opts *o,
			     int *code, bw_error *err);

/* bw_ipcheck_http_status - the HTTP status for an enum bw_ipcheck_code
 * (200 for BW_IPCHECK_OK). */
int bw_ipcheck_http_status(int code);

/*
 * bw_ipcheck_interpret - explain the A answer a of one blocklist zone into
 * listing (an object; sets "listed", "status", "reason", "codes"). list and
 * zone are the blocklists.json entries (borrowed; zone "codes" and
 * "error_codes" of zone or list give meanings). Rules: NXDOMAIN/NODATA are
 * not_listed; SERVFAIL, REFUSED and other failures are error; a timeout is
 * timeout; addresses outside 127.0.0.0/8, the list's error_codes and
 * 127.255.255.0/24 codes the zone does not list as listings make an error,
 * never a listing. Returns 1 when listed, 0 when not, -1 on ENOMEM.
 */
int bw_ipcheck_interpret(const json_t *list, const json_t *zone,
			 const bw_dns_answer *a, json_t *listing);

/*
 * bw_ipcheck_generic_name - does the host name look like one an ISP gives
 * to a dynamic or residential address: does it contain ip's digits
 * (192-0-2-1, 1.2.0.192, 192000002001, c0000201, ...) or words like
 * dynamic, dsl, pool, dhcp, ppp, cable, customer, static-ip, broadband,
 * client (outside its last two labels)? Returns 1 and, when why is not
 * NULL, a short reason in why (size bytes, always terminated); 0 when not.
 */
int bw_ipcheck_generic_name(const bw_ipaddr *ip, const char *name, char *why,
			    size_t size);

#endif /* BW_IPCHECK_H */
