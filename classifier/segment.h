/*
 * segment.h - the input as the classifier sees it: messages, each with one
 * segment per recipient that the bounce reports on.
 *
 * The email reader (email.c) and the plain-text splitter (textbounce.c) fill
 * these; explain.c classifies each segment into a finding. Every string is
 * owned by its segment or message, UTF-8 and NUL-terminated; NULL means the
 * bounce did not say.
 */
#ifndef BW_SEGMENT_H
#define BW_SEGMENT_H

#include <stddef.h>
#include "bouncewhy.h"

enum bw_seg_kind {
	BW_SEG_FAILED = 0,	/* a failed recipient (the usual bounce) */
	BW_SEG_DELAYED,		/* DSN Action: delayed; still being retried */
	BW_SEG_DELIVERED,	/* DSN Action: delivered / relayed / expanded */
	BW_SEG_FEEDBACK,	/* ARF abuse report */
	BW_SEG_VACATION		/* auto-reply (RFC 3834) */
};

typedef struct bw_segment {
	int kind;		/* enum bw_seg_kind */
	char *text;		/* the diagnostic text to classify */
	size_t len;		/* strlen(text) */
	char *recipient;	/* Final-Recipient (or Original-Recipient), address only */
	char *status;		/* DSN Status: "5.1.1" */
	int reply_code;		/* from Diagnostic-Code / the text; 0 = unknown */
	char *remote_mta;	/* Remote-MTA, host name (or IP) only */
	char *action;		/* DSN Action: failed, delayed, ... */
	char *last_attempt;	/* Last-Attempt-Date, as written */
	char *feedback_type;	/* ARF Feedback-Type */
	char *agent;		/* software that wrote the bounce: "Postfix", "qmail", "RFC3464" */
	char *source_ip;	/* the sending server's IP, where the bounce says it */
	char *command;		/* the SMTP command the failure answered: "CONN", "EHLO",
				 * "MAIL", "RCPT", "DATA" (see command.c); NULL = not said */
} bw_segment;

enum bw_msg_kind {
	BW_MSG_TEXT = 0,	/* pasted text, not an email */
	BW_MSG_BOUNCE,		/* a delivery status notification (any format) */
	BW_MSG_FEEDBACK,	/* ARF report */
	BW_MSG_AUTOREPLY,	/* vacation / auto-reply */
	BW_MSG_NOT_BOUNCE	/* an email that is none of the above */
};

typedef struct bw_message {
	int kind;		/* enum bw_msg_kind */
	bw_segment *segs;
	size_t nsegs, cap;
	/* the original (bounced) message's headers, where the bounce includes them */
	char *orig_from, *orig_to, *orig_subject, *orig_message_id, *orig_date;
} bw_message;

enum bw_input_kind { BW_INPUT_TEXT = 0, BW_INPUT_EMAIL, BW_INPUT_MBOX };

typedef struct bw_input {
	int kind;		/* enum bw_input_kind */
	bw_message *msgs;
	size_t nmsgs, cap;
} bw_input;

/* segment.c: containers. Adders return the new zeroed element, or NULL on ENOMEM. */
bw_message *bw_input_add_message(bw_input *in);
bw_segment *bw_message_add_segment(bw_message *msg);
void bw_input_free(bw_input *in);	/* frees contents, not in itself */
char *bw_strndup(const char *s, size_t n);	/* NULL-safe; NULL on ENOMEM */

/*
 * command.c: the SMTP command a failure answered, as text (len bytes) says
 * it: "CONN", "EHLO", "MAIL", "RCPT", "DATA" (static strings), or NULL.
 */
const char *bw_command_scan(const char *text, size_t len);

/*
 * email.c: does data look like an email (starts with RFC 5322 header fields,
 * or an mbox "From " line)? Cheap: looks at the first lines only.
 */
int bw_email_detect(const char *data, size_t len);

/*
 * email.c: does a From value name a mail system (MAILER-DAEMON, postmaster,
 * "Mail Delivery Subsystem", ...), and does a Subject say the mail is a
 * bounce? NUL-terminated values; NULL gives 0.
 */
int bw_from_mail_system(const char *from);
int bw_subject_says_bounce(const char *subject);

/*
 * email.c: parse one email or an mbox into in (kind, messages, segments).
 * Returns 0, or -1 with err filled when the input cannot be read as email at
 * all (the caller then treats it as text). Thread-safe.
 */
int bw_email_parse(const char *data, size_t len, bw_input *in, bw_error *err);

/*
 * textbounce.c: split plain text (a pasted bounce, or the human-readable part
 * of a bounce email without a DSN) into per-recipient segments appended to
 * msg. When the text has no recognisable per-recipient structure, appends one
 * segment holding the whole text. Returns the number of segments added, or -1
 * on ENOMEM.
 */
int bw_text_split(const char *text, size_t len, bw_message *msg);

#endif /* BW_SEGMENT_H */
