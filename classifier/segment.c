/*
 * segment.c - the containers of segment.h: inputs, messages, segments.
 */
#include <stdlib.h>
#include <string.h>

#include "segment.h"

char *bw_strndup(const char *s, size_t n)
{
	char *p;

	if (s == NULL)
		return NULL;
	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

bw_message *bw_input_add_message(bw_input *in)
{
	if (in->nmsgs == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 4;
		bw_message *v = realloc(in->msgs, cap * sizeof *v);
		if (v == NULL)
			return NULL;
		in->msgs = v;
		in->cap = cap;
	}
	memset(&in->msgs[in->nmsgs], 0, sizeof in->msgs[0]);
	return &in->msgs[in->nmsgs++];
}

bw_segment *bw_message_add_segment(bw_message *msg)
{
	if (msg->nsegs == msg->cap) {
		size_t cap = msg->cap ? msg->cap * 2 : 4;
		bw_segment *v = realloc(msg->segs, cap * sizeof *v);
		if (v == NULL)
			return NULL;
		msg->segs = v;
		msg->cap = cap;
	}
	memset(&msg->segs[msg->nsegs], 0, sizeof msg->segs[0]);
	return &msg->segs[msg->nsegs++];
}

static void segment_free(bw_segment *s)
{
	free(s->text);
	free(s->recipient);
	free(s->status);
	free(s->remote_mta);
	free(s->action);
	free(s->last_attempt);
	free(s->feedback_type);
	free(s->agent);
	free(s->source_ip);
	free(s->command);
}

void bw_input_free(bw_input *in)
{
	if (in == NULL)
		return;
	for (size_t i = 0; i < in->nmsgs; i++) {
		bw_message *m = &in->msgs[i];
		for (size_t j = 0; j < m->nsegs; j++)
			segment_free(&m->segs[j]);
		free(m->segs);
		free(m->orig_from);
		free(m->orig_to);
		free(m->orig_subject);
		free(m->orig_message_id);
		free(m->orig_date);
	}
	free(in->msgs);
	memset(in, 0, sizeof *in);
}
