/*
 * test_request.c - the edge of the FastCGI front: form decoding, content
 * negotiation and routing (404, 405 with Allow), without a socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"

static void clear(bw_request *r)
{
	bw_request_free(r);
	memset(r, 0, sizeof *r);
	r->accept = r->origin = r->query = r->remote_addr = "";
}

static void test_form_decode(void **state)
{
	bw_request r = {0};
	size_t len;

	clear(&r);
	assert_int_equal(bw_form_decode(&r, "text=550+5.1.1%20user%3Dunknown&ip=192.0.2.1&empty=&flag", 56), 0);
	assert_string_equal(bw_request_param(&r, "text", &len), "550 5.1.1 user=unknown");
	assert_int_equal(len, 22);
	assert_string_equal(bw_request_param(&r, "ip", NULL), "192.0.2.1");
	assert_string_equal(bw_request_param(&r, "empty", NULL), "");
	assert_string_equal(bw_request_param(&r, "flag", NULL), "");
	assert_null(bw_request_param(&r, "missing", NULL));
	clear(&r);
}

static void test_form_rejects(void **state)
{
	bw_request r = {0};
	char many[BW_MAX_PARAMS * 4 + 16] = "";

	clear(&r);
	assert_int_equal(bw_form_decode(&r, "a=%zz", 5), -1);	/* bad escape */
	clear(&r);
	assert_int_equal(bw_form_decode(&r, "a=%0", 4), -1);	/* cut escape */
	clear(&r);
	assert_int_equal(bw_form_decode(&r, "a=x%00y", 7), -1);	/* NUL */
	clear(&r);
	for (int i = 0; i <= BW_MAX_PARAMS; i++)
		strcat(many, "a=1&");
	assert_int_equal(bw_form_decode(&r, many, strlen(many)), -1);	/* too many */
	clear(&r);
}

static void test_negotiate(void **state)
{
	bw_request r = {0};

	clear(&r);
	assert_string_equal(bw_negotiate(&r, "html"), "html");
	r.accept = "application/json";
	assert_string_equal(bw_negotiate(&r, "html"), "json");
	r.accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
	assert_string_equal(bw_negotiate(&r, "json"), "html");
	assert_int_equal(bw_form_decode(&r, "format=fragment", 15), 0);
	assert_string_equal(bw_negotiate(&r, "json"), "fragment");
	clear(&r);
	assert_int_equal(bw_form_decode(&r, "format=evil", 11), 0);
	assert_string_equal(bw_negotiate(&r, "json"), "json");
	clear(&r);
}

static const char *header(const bw_response *res, const char *name)
{
	return res->headers.data ? strstr(res->headers.data, name) : NULL;
}

static void test_routes(void **state)
{
	bw_config cfg = {.max_body = 1024};
	bw_app app = {.cfg = &cfg};
	bw_request r = {0};
	bw_response res;

	clear(&r);
	r.method = "GET";
	strcpy(r.path, "/no/such/thing");
	bw_response_init(&res);
	bw_route_dispatch(&app, &r, &res);
	assert_int_equal(res.status, 404);
	assert_string_equal(res.content_type, "application/problem+json");
	assert_non_null(strstr(res.body.data, "\"status\":404"));
	bw_response_free(&res);

	r.method = "PUT";
	strcpy(r.path, "/api/v1/explain");
	bw_response_init(&res);
	bw_route_dispatch(&app, &r, &res);
	assert_int_equal(res.status, 405);
	assert_non_null(header(&res, "Allow: POST"));
	bw_response_free(&res);

	/* a prefix route takes one more segment, not deeper paths */
	r.method = "GET";
	strcpy(r.path, "/api/v1/reasons/a/b");
	bw_response_init(&res);
	bw_route_dispatch(&app, &r, &res);
	assert_int_equal(res.status, 404);
	bw_response_free(&res);
	clear(&r);
}

static void test_problem_shape(void **state)
{
	bw_response res;
	json_t *j;

	bw_response_init(&res);
	bw_response_problem(&res, 413, "too big \"quoted\" <b>");
	j = json_loads(res.body.data, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 413);
	assert_string_equal(json_string_value(json_object_get(j, "title")), "Content Too Large");
	assert_string_equal(json_string_value(json_object_get(j, "detail")), "too big \"quoted\" <b>");
	assert_non_null(json_object_get(j, "type"));
	json_decref(j);
	bw_response_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_decode),
		cmocka_unit_test(test_form_rejects),
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_problem_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
