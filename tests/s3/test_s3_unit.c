/*
 * test_s3_unit.c: the parts of the S3 store that need no network
 * (store/s3_int.h): S3's XML replies, the request headers curl signs,
 * URLs and canonical queries, object keys, settings and credentials.
 * Signatures themselves are checked end to end by the s3 suite, whose
 * proxy recomputes every SigV4 signature (tests/s3/faultproxy.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/error.h"
#include "store/s3_int.h"
#include "store/store.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static size_t len(const char *s)
{
	return strlen(s);
}

/* ---- XML ------------------------------------------------------------ */

static void test_xml_error__code_and_message(void **state)
{
	const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
		"<RequestId>4442587FB7D0A2F9</RequestId></Error>";
	struct s3_error e;

	(void)state;
	assert_true(s3_xml_error(xml, len(xml), &e));
	assert_string_equal(e.code, "AccessDenied");
	assert_string_equal(e.message, "Access Denied");
}

static void test_xml_error__drops_control_characters(void **state)
{
	const char *xml = "<Error><Code>Bad</Code><Message>line1&#10;line2&#9;x"
		"&#13;</Message></Error>";
	struct s3_error e;

	(void)state;
	assert_true(s3_xml_error(xml, len(xml), &e));
	assert_string_equal(e.message, "line1line2x");
}

static void test_xml_error__not_an_error(void **state)
{
	const char *ok = "<ListBucketResult><Name>b</Name></ListBucketResult>";
	struct s3_error e;

	(void)state;
	assert_false(s3_xml_error(ok, len(ok), &e));
	assert_false(s3_xml_error("not xml at all", 14, &e));
	assert_false(s3_xml_error("", 0, &e));
	assert_false(s3_xml_error(NULL, 0, &e));
	assert_false(s3_xml_error("<Error><Code></Code></Error>", 28, &e));
}

static void test_xml_error__no_entity_expansion(void **state)
{
	/* an external entity must neither be fetched nor expanded */
	const char *xml = "<?xml version=\"1.0\"?><!DOCTYPE Error [<!ENTITY x "
		"SYSTEM \"file:///etc/passwd\">]><Error><Code>C</Code>"
		"<Message>&x;</Message></Error>";
	struct s3_error e;

	(void)state;
	if (s3_xml_error(xml, len(xml), &e))
		assert_null(strstr(e.message, "root:"));
}

static void test_xml_upload_id(void **state)
{
	const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/"
		"doc/2006-03-01/\"><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2"
		"FkIElE+/=</UploadId></InitiateMultipartUploadResult>";
	char *id = NULL;

	(void)state;
	assert_int_equal(s3_xml_upload_id(xml, len(xml), &id), 0);
	assert_string_equal(id, "VXBsb2FkIElE+/=");
	free(id);
	assert_int_equal(s3_xml_upload_id("<Error/>", 8, &id), CORA_EIO);
	assert_null(id);
}

struct seen {
	int n;
	char keys[4][128];
	uint64_t sizes[4];
	int stop_at;
};

static int on_item(const char *key, uint64_t size, const char *mtime,
		   void *arg)
{
	struct seen *s = arg;

	assert_true(strlen(mtime) > 0);
	if (s->n < 4) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
		s->sizes[s->n] = size;
	}
	s->n++;
	return s->n == s->stop_at ? 42 : 0;
}

static const char list_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	"<Name>b</Name><Prefix>p/</Prefix>"
	"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
	"</NextContinuationToken><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
	"<IsTruncated>true</IsTruncated>"
	"<Contents><Key>p/sha256/01/23</Key><LastModified>2026-11-28T07:26:39"
	".000Z</LastModified><ETag>&quot;x&quot;</ETag><Size>3</Size></Contents>"
	"<Contents><Key>p/other</Key><LastModified>2026-11-28T07:26:40.000Z"
	"</LastModified><Size>12345678901</Size></Contents>"
	"</ListBucketResult>";

static void test_xml_list__page_and_token(void **state)
{
	struct seen s = { 0 };
	bool more;
	char *token;

	(void)state;
	assert_int_equal(s3_xml_list(list_xml, sizeof(list_xml) - 1, on_item,
				     &s, &more, &token), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "p/sha256/01/23");
	assert_int_equal(s.sizes[0], 3);
	assert_true(s.sizes[1] == 12345678901ULL);
	assert_true(more);
	assert_string_equal(token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	free(token);
}

static void test_xml_list__callback_stops(void **state)
{
	struct seen s = { .stop_at = 1 };
	bool more;
	char *token;

	(void)state;
	assert_int_equal(s3_xml_list(list_xml, sizeof(list_xml) - 1, on_item,
				     &s, &more, &token), 42);
	assert_int_equal(s.n, 1);
	assert_null(token);
}

static void test_xml_list__last_page_and_garbage(void **state)
{
	const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated>"
			   "</ListBucketResult>";
	const char *bad = "<ListBucketResult><IsTruncated>true</IsTruncated>"
			  "</ListBucketResult>";
	struct seen s = { 0 };
	bool more = true;
	char *token;

	(void)state;
	assert_int_equal(s3_xml_list(last, len(last), on_item, &s, &more,
				     &token), 0);
	assert_false(more);
	assert_null(token);
	assert_int_equal(s.n, 0);
	/* truncated without a token would loop for ever: refused */
	assert_int_equal(s3_xml_list(bad, len(bad), on_item, &s, &more,
				     &token), CORA_EIO);
	assert_int_equal(s3_xml_list("<Error/>", 8, on_item, &s, &more,
				     &token), CORA_EIO);
	assert_int_equal(s3_xml_list("<<<", 3, on_item, &s, &more, &token),
			 CORA_EIO);
}

static void test_xml_complete_body(void **state)
{
	char a1[] = "\"a1\"", b2[] = "\"b2&<\"";
	char *etags[] = { a1, b2 };
	char *body;
	size_t n;

	(void)state;
	assert_int_equal(s3_xml_complete_body(&body, &n, etags, 2), 0);
	assert_int_equal(n, strlen(body));
	assert_non_null(strstr(body, "<CompleteMultipartUpload xmlns=\"http://"
			       "s3.amazonaws.com/doc/2006-03-01/\">"));
	assert_non_null(strstr(body, "<Part><PartNumber>1</PartNumber>"
			       "<ETag>\"a1\"</ETag></Part>"));
	assert_non_null(strstr(body, "<PartNumber>2</PartNumber><ETag>"
			       "\"b2&amp;&lt;\"</ETag>"));
	free(body);
}

static void test_parse_time(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(s3_parse_time("1970-01-02T00:00:01.000Z", &t), 0);
	assert_int_equal(t, 86401);
	assert_int_equal(s3_parse_time("yesterday", &t), CORA_EINVALID);
}

/* ---- requests ------------------------------------------------------- */

static void test_headers__payload_digest_first(void **state)
{
	struct curl_slist *h = NULL, *p;

	(void)state;
	assert_int_equal(s3_headers(&h, SHA, NULL, NULL, NULL), 0);
	assert_string_equal(h->data, "x-amz-content-sha256: " SHA);
	assert_null(h->next);
	curl_slist_free_all(h);

	assert_int_equal(s3_headers(&h, NULL, "TOKEN", "bytes=0-99",
				    "application/xml"), 0);
	p = h;
	assert_string_equal(p->data, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	p = p->next;
	assert_string_equal(p->data, "x-amz-security-token: TOKEN");
	p = p->next;
	assert_string_equal(p->data, "Range: bytes=0-99");
	p = p->next;
	assert_string_equal(p->data, "Content-Type: application/xml");
	assert_null(p->next);
	curl_slist_free_all(h);
}

static void test_sigv4_param(void **state)
{
	char *p;

	(void)state;
	assert_int_equal(s3_sigv4_param(&p, "eu-central-1"), 0);
	assert_string_equal(p, "aws:amz:eu-central-1:s3");
	free(p);
	assert_string_equal(S3_EMPTY_SHA256, "e3b0c44298fc1c149afbf4c8996fb92"
			    "427ae41e4649b934ca495991b7852b855");
}

static json_t *base_config(void)
{
	return json_pack("{s:s, s:s}", "s3.endpoint", "http://127.0.0.1:9000/",
			 "s3.bucket", "my-bucket");
}

static void test_config__defaults(void **state)
{
	json_t *cfg = base_config();
	struct s3_config c;

	(void)state;
	assert_int_equal(s3_config_parse(&c, cfg), 0);
	assert_string_equal(c.endpoint, "http://127.0.0.1:9000");
	assert_string_equal(c.region, "us-east-1");
	assert_string_equal(c.prefix, "");
	assert_false(c.virtual_host);
	assert_true(c.multipart_threshold == 16 * S3_MIB);
	assert_true(c.part_size == 8 * S3_MIB);
	assert_true(c.cache_size == 10ULL << 30);
	assert_int_equal(c.parallel, 4);
	assert_int_equal(c.retries, 5);
	assert_int_equal(c.list_page, 1000);
	s3_config_release(&c);
	json_decref(cfg);
}

static void test_config__urls_and_keys(void **state)
{
	json_t *cfg = base_config();
	struct s3_config c;
	char *s, sha[CORA_SHA256_HEXLEN + 1];

	(void)state;
	json_object_set_new(cfg, "s3.prefix", json_string("corafs/prod"));
	assert_int_equal(s3_config_parse(&c, cfg), 0);
	assert_string_equal(c.prefix, "corafs/prod/");
	assert_int_equal(s3_object_key(&s, &c, SHA), 0);
	assert_string_equal(s, "corafs/prod/sha256/01/23456789abcdef0123456789"
			    "abcdef0123456789abcdef0123456789abcdef");
	assert_true(s3_key_digest(s, c.prefix, sha));
	assert_string_equal(sha, SHA);
	assert_false(s3_key_digest(s, "other/", sha));
	assert_false(s3_key_digest("corafs/prod/sha256/01/short", c.prefix, sha));
	assert_false(s3_key_digest("corafs/prod/sha256/01/23456789ABCDEF0123456"
				   "789abcdef0123456789abcdef0123456789abcdef",
				   c.prefix, sha));
	free(s);
	assert_int_equal(s3_url(&s, &c, "k/x", "uploads="), 0);
	assert_string_equal(s, "http://127.0.0.1:9000/my-bucket/k/x?uploads=");
	free(s);
	assert_int_equal(s3_url(&s, &c, NULL, NULL), 0);
	assert_string_equal(s, "http://127.0.0.1:9000/my-bucket/");
	free(s);
	s3_config_release(&c);

	json_object_set_new(cfg, "s3.addressing", json_string("virtual"));
	json_object_set_new(cfg, "s3.endpoint",
			    json_string("https://s3.eu-west-1.amazonaws.com"));
	assert_int_equal(s3_config_parse(&c, cfg), 0);
	assert_int_equal(s3_url(&s, &c, "k", NULL), 0);
	assert_string_equal(s, "https://my-bucket.s3.eu-west-1.amazonaws.com/k");
	free(s);
	s3_config_release(&c);
	json_decref(cfg);
}

static void test_config__refuses_bad_values(void **state)
{
	static const char *const bad[][2] = {
		{ "s3.endpoint", "ftp://x" },
		{ "s3.endpoint", "http://user:secret@host" },
		{ "s3.endpoint", "http://host/path" },
		{ "s3.bucket", "a/b" },
		{ "s3.prefix", "/abs" },
		{ "s3.prefix", "a/../b" },
		{ "s3.prefix", "a b" },
		{ "s3.addressing", "dns" },
		{ "s3.part_size", "1M" },
		{ "s3.multipart_threshold", "lots" },
		{ "s3.retries", "-1" },
		{ "s3.parallel", "0" },
		{ "cache.size", "1M" },
	};
	struct s3_config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *cfg = base_config();
		json_object_set_new(cfg, bad[i][0], json_string(bad[i][1]));
		if (s3_config_parse(&c, cfg) != CORA_EINVALID ||
		    !strstr(cora_error_last(), bad[i][0]))
			fail_msg("%s = %s: %s", bad[i][0], bad[i][1],
				 cora_error_last());
		/* never echo what may be a secret */
		assert_null(strstr(cora_error_last(), "secret"));
		json_decref(cfg);
	}
	{
		json_t *cfg = json_object();
		assert_int_equal(s3_config_parse(&c, cfg), CORA_EINVALID);
		assert_non_null(strstr(cora_error_last(), "s3.endpoint"));
		json_decref(cfg);
	}
}

static void test_size_parse(void **state)
{
	uint64_t n;

	(void)state;
	assert_int_equal(s3_size_parse("4096", &n), 0);
	assert_true(n == 4096);
	assert_int_equal(s3_size_parse("16M", &n), 0);
	assert_true(n == 16 * S3_MIB);
	assert_int_equal(s3_size_parse("10GiB", &n), 0);
	assert_true(n == 10ULL << 30);
	assert_int_equal(s3_size_parse("2 t", &n), 0);
	assert_true(n == 2ULL << 40);
	assert_int_equal(s3_size_parse("", &n), CORA_EINVALID);
	assert_int_equal(s3_size_parse("-1", &n), CORA_EINVALID);
	assert_int_equal(s3_size_parse("5X", &n), CORA_EINVALID);
	assert_int_equal(s3_size_parse("99999999999999999999", &n), CORA_EINVALID);
	assert_int_equal(s3_size_parse("99999999999T", &n), CORA_EINVALID);
}

static void test_uri_encode_and_list_query(void **state)
{
	char *s;

	(void)state;
	s = s3_uri_encode("a/b c+d=e~f_g.h-i%", false);
	assert_string_equal(s, "a%2Fb%20c%2Bd%3De~f_g.h-i%25");
	free(s);
	s = s3_uri_encode("a/b", true);
	assert_string_equal(s, "a/b");
	free(s);
	/* names sorted, values encoded: canonical for SigV4 */
	assert_int_equal(s3_list_query(&s, "p/sha256/", "ab+/=", 2), 0);
	assert_string_equal(s, "continuation-token=ab%2B%2F%3D&list-type=2&"
			    "max-keys=2&prefix=p%2Fsha256%2F");
	free(s);
	assert_int_equal(s3_list_query(&s, "", NULL, 1000), 0);
	assert_string_equal(s, "list-type=2&max-keys=1000&prefix=");
	free(s);
}

/* An UploadId has no small bound: a 700-byte one of characters that URI
 * encoding triples makes a query of more than 2,000 bytes, whole. */
static void test_upload_query__any_length(void **state)
{
	char id[701], *s, *want;
	size_t i;

	(void)state;
	for (i = 0; i < 700; i++)
		id[i] = "+/= "[i % 4];
	id[700] = '\0';
	assert_int_equal(s3_upload_query(&s, id, 0), 0);
	assert_int_equal(strlen(s), strlen("uploadId=") + 3 * 700);
	want = s3_uri_encode(id, false);
	assert_string_equal(s + strlen("uploadId="), want);
	free(s);
	/* names sorted: partNumber < uploadId */
	assert_int_equal(s3_upload_query(&s, id, 10000), 0);
	assert_int_equal(strncmp(s, "partNumber=10000&uploadId=", 26), 0);
	assert_string_equal(s + 26, want);
	free(s);
	free(want);
	assert_int_equal(s3_upload_query(&s, "VXBs+/=", 1), 0);
	assert_string_equal(s, "partNumber=1&uploadId=VXBs%2B%2F%3D");
	free(s);
}

/* Past S3_UPLOAD_ID_MAX the URL would near libcurl's limit: refused with
 * a message saying so, never cut. */
static void test_xml_upload_id__refuses_too_long(void **state)
{
	static const char head[] = "<InitiateMultipartUploadResult><UploadId>";
	static const char tail[] = "</UploadId></InitiateMultipartUploadResult>";
	size_t n = S3_UPLOAD_ID_MAX, hl = strlen(head), tl = strlen(tail);
	char *xml = malloc(hl + n + 1 + tl + 1), *id = NULL;

	(void)state;
	assert_non_null(xml);
	memcpy(xml, head, hl);
	memset(xml + hl, 'a', n);
	memcpy(xml + hl + n, tail, tl + 1);
	/* at the bound: taken whole */
	assert_int_equal(s3_xml_upload_id(xml, hl + n + tl, &id), 0);
	assert_int_equal(strlen(id), n);
	free(id);
	/* one byte more: refused */
	memset(xml + hl, 'a', n + 1);
	memcpy(xml + hl + n + 1, tail, tl + 1);
	id = NULL;
	assert_int_equal(s3_xml_upload_id(xml, hl + n + 1 + tl, &id), CORA_EIO);
	assert_null(id);
	assert_non_null(strstr(cora_error_last(), "UploadId of 1048577 bytes"));
	free(xml);
}

/* ---- credentials ---------------------------------------------------- */

static char dir[64];

static void creds_env_clear(void)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	setenv("HOME", dir, 1);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

static int creds_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cora-s3-unit-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int creds_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_creds__environment_first(void **state)
{
	struct s3_creds cr;

	(void)state;
	creds_env_clear();
	write_file("credentials", "access_key_id = FILEKEY\n"
		   "secret_access_key = FILESECRET\n", 0600);
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
	setenv("AWS_SESSION_TOKEN", "ENVTOKEN", 1);
	assert_int_equal(s3_creds_load(&cr, dir), 0);
	assert_string_equal(cr.access_key, "ENVKEY");
	assert_string_equal(cr.secret_key, "ENVSECRET");
	assert_string_equal(cr.token, "ENVTOKEN");
	assert_string_equal(cr.source, "environment");
	s3_creds_release(&cr);
	assert_null(cr.secret_key);

	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_int_equal(s3_creds_load(&cr, dir), CORA_EINVALID);
	assert_null(strstr(cora_error_last(), "ENVKEY"));
	creds_env_clear();
}

static void test_creds__catalog_file(void **state)
{
	struct s3_creds cr;

	(void)state;
	creds_env_clear();
	write_file("credentials", "# corafs\naws_access_key_id = K1\n"
		   "aws_secret_access_key=S1 \n[other]\nsecret_access_key = NO\n",
		   0600);
	assert_int_equal(s3_creds_load(&cr, dir), 0);
	assert_string_equal(cr.access_key, "K1");
	assert_string_equal(cr.secret_key, "S1");
	assert_null(cr.token);
	assert_non_null(strstr(cr.source, "/credentials"));
	s3_creds_release(&cr);
}

/* A session token has no documented bound: a long one is read whole,
 * not cut at a line buffer (the rest then read as another line). */
static void test_creds__long_token_whole(void **state)
{
	struct s3_creds cr;
	size_t n = 10000, i;
	char *text = malloc(n + 100), *p;

	(void)state;
	assert_non_null(text);
	creds_env_clear();
	p = text + sprintf(text, "access_key_id = K1\nsecret_access_key = S1\n"
			   "session_token = ");
	for (i = 0; i < n; i++)
		*p++ = "AB+/="[i % 5];
	strcpy(p, "\n");
	write_file("credentials", text, 0600);
	assert_int_equal(s3_creds_load(&cr, dir), 0);
	assert_non_null(cr.token);
	assert_int_equal(strlen(cr.token), n);
	assert_memory_equal(cr.token, text + (p - text) - n, n);
	assert_string_equal(cr.secret_key, "S1");
	s3_creds_release(&cr);
	free(text);
}

static void test_creds__refuses_readable_file(void **state)
{
	struct s3_creds cr;

	(void)state;
	creds_env_clear();
	write_file("credentials", "access_key_id = K\nsecret_access_key = "
		   "TOPSECRET\n", 0640);
	assert_int_equal(s3_creds_load(&cr, dir), CORA_EPERM);
	assert_non_null(strstr(cora_error_last(), "refusing credentials file"));
	assert_non_null(strstr(cora_error_last(), "0640"));
	assert_null(strstr(cora_error_last(), "TOPSECRET"));
	assert_null(cr.secret_key);
}

static void test_creds__bad_file_never_echoes(void **state)
{
	struct s3_creds cr;

	(void)state;
	creds_env_clear();
	write_file("credentials", "TOPSECRET-without-equals\n", 0600);
	assert_int_equal(s3_creds_load(&cr, dir), CORA_EINVALID);
	assert_non_null(strstr(cora_error_last(), "line 1"));
	assert_null(strstr(cora_error_last(), "TOPSECRET"));
	write_file("credentials", "access_key_id = K\n", 0600);
	assert_int_equal(s3_creds_load(&cr, dir), CORA_EINVALID);
	assert_non_null(strstr(cora_error_last(), "secret_access_key"));
}

static void test_creds__home_profile_and_none(void **state)
{
	struct s3_creds cr;
	char p[128];

	(void)state;
	creds_env_clear();
	snprintf(p, sizeof(p), "%s/credentials", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/.aws", dir);
	mkdir(p, 0700);
	/* none anywhere: not an error, requests will say how */
	assert_int_equal(s3_creds_load(&cr, dir), 0);
	assert_null(cr.access_key);
	assert_string_equal(cr.source, "none");
	write_file(".aws/credentials", "[default]\naws_access_key_id = D\n"
		   "aws_secret_access_key = DS\n[lab]\naws_access_key_id = L\n"
		   "aws_secret_access_key = LS\naws_session_token = LT\n", 0600);
	assert_int_equal(s3_creds_load(&cr, dir), 0);
	assert_string_equal(cr.access_key, "D");
	s3_creds_release(&cr);
	setenv("AWS_PROFILE", "lab", 1);
	assert_int_equal(s3_creds_load(&cr, NULL), 0);
	assert_string_equal(cr.access_key, "L");
	assert_string_equal(cr.token, "LT");
	s3_creds_release(&cr);
	creds_env_clear();
}

/* ---- the store without network -------------------------------------- */

static void test_store__no_credentials_says_how(void **state)
{
	struct cora_blobstore *bs;
	json_t *cfg = base_config();
	uint64_t size;

	(void)state;
	creds_env_clear();
	setenv("HOME", "/nonexistent", 1);
	json_object_set_new(cfg, "s3.endpoint", json_string("http://127.0.0.1:9"));
	assert_int_equal(cora_blob_s3_open(&bs, dir, cfg), 0);
	assert_string_equal(bs->name, "s3");
	assert_null(bs->path);
	assert_null(bs->adopt);
	assert_non_null(bs->stored_at);
	assert_int_equal(bs->exists(bs, SHA, &size), CORA_EIO);
	assert_non_null(strstr(cora_error_last(), "s3: HEAD blob " SHA
			       ": no credentials: set AWS_ACCESS_KEY_ID"));
	assert_int_equal(bs->exists(bs, "../../etc/passwd", &size),
			 CORA_EINVALID);
	cora_blobstore_free(bs);
	json_decref(cfg);
}

static void test_store__check_refuses_before_use(void **state)
{
	json_t *cfg = base_config();
	char source[300];

	(void)state;
	creds_env_clear();
	setenv("AWS_ACCESS_KEY_ID", "K", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "S", 1);
	assert_int_equal(cora_s3_check(dir, cfg, source), 0);
	assert_string_equal(source, "environment");
	json_object_set_new(cfg, "s3.addressing", json_string("sideways"));
	assert_int_equal(cora_s3_check(dir, cfg, source), CORA_EINVALID);
	creds_env_clear();
	json_decref(cfg);
}

/* A cache folder that leaves too little room below it for the names the
 * cache builds (up to 114 bytes more) is refused, not cut: a chunk named
 * ".../12" for ".../123" would be another chunk. */
static void test_cache__refuses_folder_name_too_long(void **state)
{
	struct cora_blobstore *next = NULL, *bs = NULL;
	char blobs[128], *cache = malloc(4096);
	size_t n;

	(void)state;
	assert_non_null(cache);
	snprintf(blobs, sizeof(blobs), "%s/blobs", dir);
	/* a folder that exists, 3,990 bytes long, in components of 200 */
	n = (size_t)snprintf(cache, 4096, "%s", dir);
	while (n < 3990) {
		size_t k = 3990 - n - 1 < 200 ? 3990 - n - 1 : 200;
		cache[n++] = '/';
		memset(cache + n, 'c', k);
		n += k;
		cache[n] = '\0';
		assert_int_equal(mkdir(cache, 0700), 0);
	}
	assert_int_equal(strlen(cache), 3990);
	assert_int_equal(cora_blob_local_open(&next, blobs), 0);
	assert_int_equal(cora_blob_cache_open(&bs, cache, next, 1 << 20,
					      1 << 20, 1), CORA_EINVALID);
	assert_null(bs);
	assert_non_null(strstr(cora_error_last(), "its name is 3990 bytes "
			       "long, more than the 3968 allowed"));
	free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_error__code_and_message),
		cmocka_unit_test(test_xml_error__drops_control_characters),
		cmocka_unit_test(test_xml_error__not_an_error),
		cmocka_unit_test(test_xml_error__no_entity_expansion),
		cmocka_unit_test(test_xml_upload_id),
		cmocka_unit_test(test_xml_list__page_and_token),
		cmocka_unit_test(test_xml_list__callback_stops),
		cmocka_unit_test(test_xml_list__last_page_and_garbage),
		cmocka_unit_test(test_xml_complete_body),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_headers__payload_digest_first),
		cmocka_unit_test(test_sigv4_param),
		cmocka_unit_test(test_config__defaults),
		cmocka_unit_test(test_config__urls_and_keys),
		cmocka_unit_test(test_config__refuses_bad_values),
		cmocka_unit_test(test_size_parse),
		cmocka_unit_test(test_uri_encode_and_list_query),
		cmocka_unit_test(test_upload_query__any_length),
		cmocka_unit_test(test_xml_upload_id__refuses_too_long),
		cmocka_unit_test(test_creds__environment_first),
		cmocka_unit_test(test_creds__catalog_file),
		cmocka_unit_test(test_creds__long_token_whole),
		cmocka_unit_test(test_creds__refuses_readable_file),
		cmocka_unit_test(test_creds__bad_file_never_echoes),
		cmocka_unit_test(test_creds__home_profile_and_none),
		cmocka_unit_test(test_store__no_credentials_says_how),
		cmocka_unit_test(test_store__check_refuses_before_use),
		cmocka_unit_test(test_cache__refuses_folder_name_too_long),
	};
	int rc;

	cora_store_register_all();
	rc = cmocka_run_group_tests(tests, creds_setup, creds_teardown);
	xmlCleanupParser();
	curl_global_cleanup();
	return rc;
}
