/*
 * s3_xml.c: the XML of S3 replies, read with libxml2: error documents,
 * InitiateMultipartUploadResult, ListBucketResult (ListObjectsV2), and the
 * CompleteMultipartUpload request body.
 *
 * Replies are parsed from memory with the network and entity expansion
 * off (XML_PARSE_NONET, no XML_PARSE_NOENT) and libxml2's own error
 * printing silenced, so a hostile or broken server can make a request
 * fail but cannot make us fetch anything or write to stderr.  Elements
 * are matched by local name: S3 puts them in its namespace, some
 * compatible servers do not.
 */
#include "store/s3_int.h"

#include "core/error.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XML_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
		  XML_PARSE_NOBLANKS)
#define XML_MAX (64 * 1024 * 1024) /* no reply of ours is near this */

static xmlDocPtr parse(const char *xml, size_t n)
{
	if (!xml || n == 0 || n > XML_MAX)
		return NULL;
	return xmlReadMemory(xml, (int)n, "s3.xml", NULL, XML_OPTS);
}

static bool named(const xmlNode *node, const char *name)
{
	return node->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)node->name, name) == 0;
}

static xmlNodePtr child(const xmlNode *parent, const char *name)
{
	xmlNodePtr c;

	for (c = parent->children; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

/* The text of a child element, allocated by libxml2 (xmlFree), or NULL. */
static xmlChar *child_text(const xmlNode *parent, const char *name)
{
	xmlNodePtr c = child(parent, name);

	return c ? xmlNodeGetContent(c) : NULL;
}

/* Copies text into a fixed buffer, dropping control characters so a
 * server cannot put line breaks or escapes into our messages. */
static void copy_clean(char *dst, size_t cap, const xmlChar *src)
{
	size_t i = 0;

	if (src)
		for (; *src && i + 1 < cap; src++)
			if (*src >= 0x20 && *src != 0x7f)
				dst[i++] = (char)*src;
	dst[i] = '\0';
}

bool s3_xml_error(const char *xml, size_t n, struct s3_error *e)
{
	xmlDocPtr doc = parse(xml, n);
	xmlNodePtr root;
	xmlChar *code, *msg;
	bool is_error = false;

	e->code[0] = e->message[0] = '\0';
	if (!doc)
		return false;
	root = xmlDocGetRootElement(doc);
	if (root && named(root, "Error")) {
		code = child_text(root, "Code");
		msg = child_text(root, "Message");
		copy_clean(e->code, sizeof(e->code), code);
		copy_clean(e->message, sizeof(e->message), msg);
		xmlFree(code);
		xmlFree(msg);
		is_error = e->code[0] != '\0';
	}
	xmlFreeDoc(doc);
	return is_error;
}

int s3_xml_upload_id(const char *xml, size_t n, char **out)
{
	xmlDocPtr doc = parse(xml, n);
	xmlNodePtr root;
	xmlChar *id = NULL;
	int rc = 0;

	*out = NULL;
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root && named(root, "InitiateMultipartUploadResult"))
		id = child_text(root, "UploadId");
	if (!id || !*id)
		rc = cora_error_set(CORA_EIO, "s3: the reply to a multipart "
				    "upload has no UploadId");
	else if (strlen((const char *)id) > S3_UPLOAD_ID_MAX)
		rc = cora_error_set(CORA_EIO, "s3: the reply to a multipart "
				    "upload has an UploadId of %zu bytes, more "
				    "than the %d this store can send back",
				    strlen((const char *)id), S3_UPLOAD_ID_MAX);
	else if (!(*out = strdup((const char *)id)))
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
	xmlFree(id);
	xmlFreeDoc(doc);
	return rc;
}

int s3_xml_list(const char *xml, size_t n, s3_list_item_fn fn, void *arg,
		bool *truncated, char **next_token)
{
	xmlDocPtr doc = parse(xml, n);
	xmlNodePtr root, c;
	xmlChar *t;
	int rc = 0;

	*truncated = false;
	*next_token = NULL;
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || !named(root, "ListBucketResult")) {
		xmlFreeDoc(doc);
		return cora_error_set(CORA_EIO, "s3: the reply to a listing "
				      "is not a ListBucketResult");
	}
	t = child_text(root, "IsTruncated");
	*truncated = t && strcmp((const char *)t, "true") == 0;
	xmlFree(t);
	t = child_text(root, "NextContinuationToken");
	if (t && *t && !(*next_token = strdup((const char *)t)))
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
	xmlFree(t);
	if (rc == 0 && *truncated && !*next_token)
		rc = cora_error_set(CORA_EIO, "s3: a truncated listing has no "
				    "NextContinuationToken");
	for (c = root->children; c && rc == 0; c = c->next) {
		xmlChar *key, *size, *mtime;
		char *end;
		unsigned long long sz;

		if (!named(c, "Contents"))
			continue;
		key = child_text(c, "Key");
		size = child_text(c, "Size");
		mtime = child_text(c, "LastModified");
		sz = size ? strtoull((const char *)size, &end, 10) : 0;
		if (fn && key && size && *size && !*end)
			rc = fn((const char *)key, sz,
				mtime ? (const char *)mtime : "", arg);
		xmlFree(key);
		xmlFree(size);
		xmlFree(mtime);
	}
	xmlFreeDoc(doc);
	if (rc) {
		free(*next_token);
		*next_token = NULL;
	}
	return rc;
}

int s3_xml_complete_body(char **out, size_t *len, char *const *etags,
			 size_t n)
{
	xmlDocPtr doc;
	xmlNodePtr root, part;
	xmlChar *mem = NULL;
	char num[24];
	int size = 0;
	size_t i;

	*out = NULL;
	*len = 0;
	doc = xmlNewDoc(BAD_CAST "1.0");
	root = doc ? xmlNewNode(NULL, BAD_CAST "CompleteMultipartUpload") : NULL;
	if (!root) {
		xmlFreeDoc(doc);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	xmlDocSetRootElement(doc, root);
	xmlNewProp(root, BAD_CAST "xmlns",
		   BAD_CAST "http://s3.amazonaws.com/doc/2006-03-01/");
	for (i = 0; i < n; i++) {
		part = xmlNewChild(root, NULL, BAD_CAST "Part", NULL);
		snprintf(num, sizeof(num), "%zu", i + 1);
		/* xmlNewTextChild escapes the ETag's quotes */
		if (!part ||
		    !xmlNewTextChild(part, NULL, BAD_CAST "PartNumber", BAD_CAST num) ||
		    !xmlNewTextChild(part, NULL, BAD_CAST "ETag", BAD_CAST etags[i])) {
			xmlFreeDoc(doc);
			return cora_error_set(CORA_ENOMEM, "out of memory");
		}
	}
	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	xmlFreeDoc(doc);
	if (!mem)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	*out = malloc((size_t)size + 1);
	if (!*out) {
		xmlFree(mem);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	memcpy(*out, mem, (size_t)size);
	(*out)[size] = '\0';
	*len = (size_t)size;
	xmlFree(mem);
	return 0;
}

int s3_parse_time(const char *text, int64_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end)
		return cora_error_set(CORA_EINVALID, "s3: bad timestamp");
	*out = (int64_t)timegm(&tm);
	return 0;
}
