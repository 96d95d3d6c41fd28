/*
 * fuzz_s3xml.c: libFuzzer target for what the S3 store reads from a
 * server (store/s3_int.h): the XML reply parsers of s3_xml.c
 * (s3_xml_error, s3_xml_upload_id, s3_xml_list, s3_parse_time) on the
 * input as a reply body, and the text a reply hands on: listed keys
 * through s3_key_digest, a continuation token through s3_list_query, and
 * ETags through s3_xml_complete_body.
 *
 * Properties: no crash, leak or sanitizer report, and
 *   - an error reply's code and message are NUL-terminated, within their
 *     buffers and free of control characters; "is an error" means a code;
 *   - an UploadId is a non-empty string, or a CORA_EIO/ENOMEM failure
 *     with *out NULL;
 *   - a listing calls back with non-NULL key and time; a callback's
 *     non-zero return stops the walk and is returned, with no token; a
 *     truncated page that succeeds has a token;
 *   - a continuation token (the input as a string) becomes a query of
 *     unreserved characters and %XX only;
 *   - a key s3_key_digest accepts gives 64 lower-case hex digits;
 *   - ETags of printable ASCII (each line of the input) survive the
 *     CompleteMultipartUpload body: it parses, and lists them in order.
 */
#include "store/s3_int.h"

#include "core/error.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ETAGS 16

struct walk {
	unsigned calls, stop_after;
};

static int on_item(const char *key, uint64_t size, const char *mtime,
		   void *arg)
{
	struct walk *w = arg;
	char sha[CORA_SHA256_HEXLEN + 1];
	int64_t t;
	size_t i;

	(void)size;
	if (!key || !mtime)
		abort();
	if (s3_key_digest(key, "", sha) || s3_key_digest(key, "pre/", sha)) {
		if (strlen(sha) != CORA_SHA256_HEXLEN)
			abort();
		for (i = 0; i < CORA_SHA256_HEXLEN; i++)
			if (!isxdigit((unsigned char)sha[i]) ||
			    isupper((unsigned char)sha[i]))
				abort();
	}
	(void)s3_parse_time(mtime, &t);
	if (++w->calls == w->stop_after)
		return 42;
	return 0;
}

static void clean_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		abort();                    /* not terminated */
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

static void error_reply(const uint8_t *data, size_t size)
{
	struct s3_error e;
	bool is = s3_xml_error((const char *)data, size, &e);

	clean_text(e.code, sizeof(e.code));
	clean_text(e.message, sizeof(e.message));
	if (is != (e.code[0] != '\0'))
		abort();
}

static void upload_id(const uint8_t *data, size_t size)
{
	char *id = (char *)1;
	int rc = s3_xml_upload_id((const char *)data, size, &id);

	if (rc == 0) {
		if (!id || !*id)
			abort();
		free(id);
	} else if ((rc != CORA_EIO && rc != CORA_ENOMEM) || id) {
		abort();
	}
}

static void listing(const uint8_t *data, size_t size, unsigned stop_after)
{
	struct walk w = { 0, stop_after };
	bool truncated = true;
	char *next = (char *)1;
	int rc;

	rc = s3_xml_list((const char *)data, size, on_item, &w, &truncated,
			 &next);
	if (rc == 42) {
		if (w.calls != stop_after || next)
			abort();
		return;
	}
	if (rc == 0 && truncated && (!next || !*next))
		abort();
	if (rc != 0 && rc != CORA_EIO && rc != CORA_ENOMEM)
		abort();
	free(next);
}

static void token_query(const char *text)
{
	char *q = NULL;
	const char *p;

	if (s3_list_query(&q, "pre/sha256/", text, 1000) != 0)
		abort();
	for (p = q; *p; p++) {
		if (isalnum((unsigned char)*p) || strchr("-_.~=&", *p))
			continue;
		if (*p == '%' && isxdigit((unsigned char)p[1]) &&
		    isxdigit((unsigned char)p[2])) {
			p += 2;
			continue;
		}
		fprintf(stderr, "query has '%c': %s\n", *p, q);
		abort();
	}
	free(q);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void complete_body(const char *text)
{
	char *copy = strdup(text), *etags[MAX_ETAGS], *line, *save = NULL;
	char *body = NULL;
	size_t n = 0, len = 0, i;
	bool check = true;
	xmlDocPtr doc;
	xmlNodePtr root, part, c;

	if (!copy)
		abort();
	for (line = strtok_r(copy, "\n", &save); line && n < MAX_ETAGS;
	     line = strtok_r(NULL, "\n", &save)) {
		etags[n++] = line;
		check = check && printable(line);
	}
	if (s3_xml_complete_body(&body, &len, etags, n) != 0)
		abort();
	if (strlen(body) != len)
		abort();
	if (check) {
		doc = xmlReadMemory(body, (int)len, "body.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
		root = doc ? xmlDocGetRootElement(doc) : NULL;
		if (!root || strcmp((const char *)root->name,
				    "CompleteMultipartUpload") != 0) {
			fprintf(stderr, "body does not parse: %s\n", body);
			abort();
		}
		i = 0;
		for (part = root->children; part; part = part->next) {
			xmlChar *t = NULL;

			if (part->type != XML_ELEMENT_NODE)
				continue;
			for (c = part->children; c; c = c->next)
				if (c->type == XML_ELEMENT_NODE &&
				    strcmp((const char *)c->name, "ETag") == 0)
					t = xmlNodeGetContent(c);
			if (i >= n || !t ||
			    strcmp((const char *)t, etags[i]) != 0) {
				fprintf(stderr, "ETag %zu does not come back: "
					"%s\n", i, body);
				abort();
			}
			xmlFree(t);
			i++;
		}
		if (i != n)
			abort();
		xmlFreeDoc(doc);
	}
	free(body);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, sha[CORA_SHA256_HEXLEN + 1];
	uint64_t bytes;
	int64_t t;

	error_reply(data, size);
	upload_id(data, size);
	listing(data, size, 0);
	listing(data, size, 2);

	/* the input as one string (up to its first NUL) */
	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	(void)s3_parse_time(text, &t);
	(void)s3_size_parse(text, &bytes);
	if (s3_key_digest(text, "", sha) && strlen(sha) != CORA_SHA256_HEXLEN)
		abort();
	token_query(text);
	complete_body(text);
	free(text);
	cora_error_clear();
	return 0;
}
