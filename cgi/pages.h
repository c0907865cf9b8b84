/*
 * pages.h - bouncewhy's web pages: the helpdesk form, the explanation of a
 * pasted bounce, the IP check, the knowledge base, and the same content
 * without site chrome for support portals (/embed/...).
 *
 * Each handler has the bw_handler shape of http.h and is listed in the
 * route table (routes.c). Every answer comes in three forms, picked by
 * ?format= or the Accept header (bw_negotiate): a whole HTML page, an HTML
 * fragment (the page's content without <html>, for a portal to insert; it
 * uses the "bw-" classes of static/style.css), or the API's JSON.
 *
 * HTML is only made by the templates of app->templates (Mustache, escaped
 * by default); the one raw slot is the layout's {{{body}}}, which holds
 * another template's output. URLs put into href attributes are checked to be
 * http(s) first. Every HTML answer carries a Content-Security-Policy that
 * allows scripts and styles from our own origin only; /embed/ answers may be
 * framed by cfg->frame_ancestors ("*" when unset), all others by nobody.
 *
 * Threads: handlers keep no state; app is shared and read-only.
 * Errors: bad input is a 4xx page (or problem+json); a template or memory
 * failure a 500 problem. Nothing is printed.
 */
#ifndef BW_PAGES_H
#define BW_PAGES_H

#include "http.h"

/* GET / : the form. */
void bw_page_home(const bw_app *app, const bw_request *req, bw_response *res,
		  const char *tail);
/* GET, POST /explain and /embed/explain: form fields text, ip, audience
 * (customer|administrator); GET without text shows the form. A request with
 * only an IP is sent on to /ip/{ip} (303). */
void bw_page_explain(const bw_app *app, const bw_request *req,
		     bw_response *res, const char *tail);
/* GET /ip/{ip}: reverse DNS and blocklists (tail is the address). */
void bw_page_ip(const bw_app *app, const bw_request *req, bw_response *res,
		const char *tail);
/* GET /kb/ (tail "": the index), /kb/{reason} and /embed/kb/{reason}. */
void bw_page_kb(const bw_app *app, const bw_request *req, bw_response *res,
		const char *tail);
/* GET /kb/blocklist/{id} (tail is the id). */
void bw_page_kb_blocklist(const bw_app *app, const bw_request *req,
			  bw_response *res, const char *tail);

/*
 * bw_page_error - an error answer in the form the client asked for: an HTML
 * page with title and detail, or application/problem+json. For the route
 * table's 404s and for other handlers that want a friendly page.
 */
void bw_page_error(const bw_app *app, const bw_request *req, bw_response *res,
		   int status, const char *title, const char *detail);

#endif /* BW_PAGES_H */
