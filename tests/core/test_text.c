/*
 * test_text.c: text validation, UUIDs, clock and hashing primitives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/text.h"
#include "core/uuid.h"
#include "tests/core/fixture.h"

#include <stdlib.h>
#include <string.h>

static void test_bounded__trims_unicode_space_and_counts_code_points(void **st)
{
	char *out;

	/* U+3000 ideographic space and U+00A0 around 3 code points (5 bytes). */
	assert_int_equal(cora_text_bounded(&out, "\xe3\x80\x80\xc2\xa0" "a\xc3\xa9z \t",
					   1, 3, "name"), 0);
	assert_string_equal(out, "a\xc3\xa9z");
	free(out);
	assert_int_equal(cora_text_bounded(&out, "abcd", 1, 3, "name"),
			 CORA_EINVALID);
	assert_null(out);
	assert_string_equal(cora_error_last(),
			    "name must be 1 to 3 characters, not 4");
	assert_int_equal(cora_text_bounded(&out, " \xe2\x80\x83 ", 1, 3, "name"),
			 CORA_EINVALID);
	assert_string_equal(cora_error_last(), "name is empty");
}

static void test_bounded__refuses_invalid_utf8(void **st)
{
	char *out;

	assert_int_equal(cora_text_bounded(&out, "a\xc0\xafz", 1, 9, "title"),
			 CORA_EINVALID); /* overlong '/' */
	assert_int_equal(cora_text_bounded(&out, "\xed\xa0\x80", 1, 9, "title"),
			 CORA_EINVALID); /* surrogate */
	assert_string_equal(cora_error_last(), "title is not valid UTF-8 text");
}

/* One validator's verdict on each text of a table, ended by NULL. */
struct verdict {
	const char *text;
	int rc;
};

static void assert_verdicts(int (*check)(const char *, const char *),
			    const char *what, const struct verdict *v)
{
	for (; v->text; v++)
		if (check(v->text, what) != v->rc)
			fail_msg("%s '%s': expected %d", what, v->text, v->rc);
}

/* buf as n times c (buf holds n + 1 bytes). */
static const char *repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void test_slug__rules(void **st)
{
	static const struct verdict v[] = {
		{ "scan-0042", 0 },
		{ "Objective_1.1x", 0 },
		{ "-x", CORA_EINVALID },
		{ ".hidden", CORA_EINVALID },
		{ "a b", CORA_EINVALID },
		{ "caf\xc3\xa9", CORA_EINVALID },
		{ NULL, 0 },
	};
	char long_slug[140];

	assert_verdicts(cora_text_slug, "dataset", v);
	assert_int_equal(cora_text_slug(repeat(long_slug, 'a', 129), "dataset"),
			 CORA_EINVALID);
	assert_int_equal(cora_text_slug(repeat(long_slug, 'a', 128), "dataset"),
			 0);
}

static void test_uri__blocks_schemes(void **st)
{
	char *out;

	assert_int_equal(cora_text_uri(&out, " s3://aps-2bm-raw/x.h5 ", "uri"), 0);
	assert_string_equal(out, "s3://aps-2bm-raw/x.h5");
	free(out);
	assert_int_equal(cora_text_uri(&out, "JavaScript:alert(1)", "uri"),
			 CORA_EINVALID);
	assert_string_equal(cora_error_last(), "uri scheme 'JavaScript' is not allowed");
	assert_int_equal(cora_text_uri(&out, "data:text/html,x", "uri"), CORA_EINVALID);
	assert_int_equal(cora_text_uri(&out, "/no/scheme", "uri"), CORA_EINVALID);
}

static void test_sha256__lowercase_only(void **st)
{
	const char *ok = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

	assert_int_equal(cora_text_sha256(ok, "checksum"), 0);
	assert_int_equal(cora_text_sha256("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
					  "checksum"), CORA_EINVALID);
	assert_int_equal(cora_text_sha256("e3b0", "checksum"), CORA_EINVALID);
}

static void test_orcid_ror_doi_spdx(void **st)
{
	char *out;

	assert_int_equal(cora_text_orcid(&out, "0000-0002-1825-0097"), 0);
	assert_string_equal(out, "https://orcid.org/0000-0002-1825-0097");
	free(out);
	assert_int_equal(cora_text_orcid(&out, "0000-0002-1825-0098"), CORA_EINVALID);
	assert_int_equal(cora_text_ror(&out, "05gvnxz63"), 0);
	assert_string_equal(out, "https://ror.org/05gvnxz63");
	free(out);
	assert_int_equal(cora_text_ror(&out, "https://example.org/x"), CORA_EINVALID);
	assert_int_equal(cora_text_doi("10.0000/cora-stub/abc"), 0);
	assert_int_equal(cora_text_doi("doi:10.1/x"), CORA_EINVALID);
	assert_int_equal(cora_text_spdx("CC-BY-4.0"), 0);
	assert_int_equal(cora_text_spdx("MIT OR Apache-2.0"), CORA_EINVALID);
}

static void test_relpath__rules(void **st)
{
	static const struct verdict v[] = {
		{ "raw/scan 1/\xc3\xa9.h5", 0 },
		{ "/abs", CORA_EINVALID },
		{ "a//b", CORA_EINVALID },
		{ "a/../b", CORA_EINVALID },
		{ "a/./b", CORA_EINVALID },
		{ "a/", CORA_EINVALID },
		{ NULL, 0 },
	};
	char big[300];

	assert_verdicts(cora_text_relpath, "path", v);
	assert_int_equal(cora_text_relpath(repeat(big, 'x', 256), "path"),
			 CORA_EINVALID);
}

/* Reference 7.2: the deterministic ids of Models and Families. */
static void test_uuid5__reference_vectors(void **st)
{
	const struct fixture_family_id *v;
	char buf[37], *low;

	for (v = fixture_family_ids; v->name; v++) {
		assert_int_equal(cora_nfc_lower(&low, v->name), 0);
		cora_uuid_v5_str(buf, CORA_NS_FAMILY, low, strlen(low));
		assert_string_equal(buf, v->id);
		free(low);
	}
	/* The namespaces are uuid5(NAMESPACE_DNS, 'cora.<kind>'). */
	cora_uuid_v5_str(buf, CORA_NS_DNS, "cora.family", 11);
	assert_string_equal(buf, CORA_NS_FAMILY);
	cora_uuid_v5_str(buf, CORA_NS_DNS, "cora.model", 10);
	assert_string_equal(buf, CORA_NS_MODEL);
	cora_uuid_v5_str(buf, CORA_NS_DNS, "cora.actor", 10);
	assert_string_equal(buf, CORA_NS_ACTOR);
}

static void test_uuid7__ordered_and_versioned(void **st)
{
	char a[37], b[37];
	int i;

	cora_uuid_v7_str(a);
	for (i = 0; i < 10000; i++) {
		cora_uuid_v7_str(b);
		assert_true(strcmp(a, b) < 0);
		assert_int_equal(b[14], '7');
		assert_true(strchr("89ab", b[19]) != NULL);
		assert_true(cora_uuid_valid(b));
		memcpy(a, b, sizeof(a));
	}
}

static void test_time__format_and_parse(void **st)
{
	char buf[CORA_TIME_STRLEN];
	int64_t us;

	assert_int_equal(cora_time_parse(&us, "2026-05-19T14:03:22Z"), 0);
	assert_string_equal(cora_time_format(buf, us), "2026-05-19T14:03:22+00:00");
	assert_int_equal(cora_time_parse(&us, "2026-05-19T16:03:22.123456+02:00"), 0);
	assert_string_equal(cora_time_format(buf, us),
			    "2026-05-19T14:03:22.123456+00:00");
	assert_int_equal(cora_time_parse(&us, "2026-05-19 14:03"), CORA_EINVALID);
}

static void test_sha256_tree__vector(void **st)
{
	/* Two files; the order given must not matter.  The expected value
	 * was computed independently from the algorithm of reference 3.4:
	 *   for p in sorted(paths): h.update(len(p).to_bytes(8,'big') + p +
	 *   bytes.fromhex(digest)) */
	const char *empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	const char *abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	struct cora_tree_entry e[] = {
		{ "sub/b.tif", abc },
		{ "a.tif", empty },
	};
	char hex[65];

	assert_int_equal(cora_sha256_tree(hex, e, 2), 0);
	assert_string_equal(hex, "d6552fc995dc1d86babee35af6427af3910c118d38b93c21185e468fadcd25ad");
	/* NFC: a decomposed e-acute names the same file as a composed one. */
	{
		struct cora_tree_entry d[] = { { "e\xcc\x81", empty } };
		struct cora_tree_entry c[] = { { "\xc3\xa9", empty } };
		char h1[65], h2[65];
		assert_int_equal(cora_sha256_tree(h1, d, 1), 0);
		assert_int_equal(cora_sha256_tree(h2, c, 1), 0);
		assert_string_equal(h1, h2);
	}
	assert_int_equal(cora_sha256_tree(hex, NULL, 0), 0);
	assert_string_equal(hex, empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded__trims_unicode_space_and_counts_code_points),
		cmocka_unit_test(test_bounded__refuses_invalid_utf8),
		cmocka_unit_test(test_slug__rules),
		cmocka_unit_test(test_uri__blocks_schemes),
		cmocka_unit_test(test_sha256__lowercase_only),
		cmocka_unit_test(test_orcid_ror_doi_spdx),
		cmocka_unit_test(test_relpath__rules),
		cmocka_unit_test(test_uuid5__reference_vectors),
		cmocka_unit_test(test_uuid7__ordered_and_versioned),
		cmocka_unit_test(test_time__format_and_parse),
		cmocka_unit_test(test_sha256_tree__vector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
