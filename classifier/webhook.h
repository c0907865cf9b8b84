/*
 * webhook.h - bounce notifications that sending services post as JSON.
 *
 * Integrations often hold a bounce only as their provider's event, not as
 * the bounce email: Amazon SES notifications (bare, or inside the SNS
 * envelope whose "Message" is a JSON string), SendGrid's event webhook
 * (an array of events), Mailgun's webhook ("event-data", or an Events API
 * page of "items") and Postmark's bounce webhook (or a Bounces API page).
 * bw_webhook_parse recognises these shapes and turns each event into a
 * message of the classifier's input, with one segment per recipient whose
 * text is the provider's diagnostic text (the SMTP reply the provider got),
 * so the usual rules classify it.
 *
 * The library's other parts only call bw_webhook_parse; nothing here
 * prints, exits or keeps state between calls. Thread-safe.
 */
#ifndef BW_WEBHOOK_H
#define BW_WEBHOOK_H

#include <stddef.h>

#include "segment.h"

/*
 * bw_webhook_parse - when data (len bytes of UTF-8, not necessarily
 * NUL-terminated) is the JSON of a recognised provider notification,
 * append its messages and segments to in (which must be empty) and return
 * the number of segments added (> 0). Returns 0 when data is not such a
 * notification, or holds no event worth classifying (opens, clicks, ...),
 * and -1 when memory ran out; in both cases in is left empty.
 * Each segment's agent names the provider ("Amazon SES", "SendGrid",
 * "Mailgun", "Postmark").
 */
int bw_webhook_parse(const char *data, size_t len, bw_input *in);

#endif /* BW_WEBHOOK_H */
