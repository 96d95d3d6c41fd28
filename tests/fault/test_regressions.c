/*
 * test_regressions.c: unit tests for the bugs the fuzzers and fault walks
 * found in core (tests/fuzz/regressions holds the raw inputs; these say
 * what each one means, and run in every build, valgrind included).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/aggregate.h"
#include "core/base64.h"
#include "core/clock.h"
#include "core/error.h"
#include "tests/core/fixture.h"

#include <stdlib.h>
#include <string.h>

#define DS1 "01900000-0000-7000-8000-0000000000d1"

/* clock.c: strftime's %Y wrote year 26 as "26", which did not parse. */
static void test_time_format__pads_the_year(void **st)
{
	char buf[CORA_TIME_STRLEN];
	int64_t us, back;

	assert_int_equal(cora_time_parse(&us, "0026-05-19T14:03:22Z"), 0);
	assert_string_equal(cora_time_format(buf, us),
			    "0026-05-19T14:03:22+00:00");
	assert_int_equal(cora_time_parse(&back, buf), 0);
	assert_true(back == us);
}

/* clock.c: timegm() rolled 2026-02-31 over into March. */
static void test_time_parse__refuses_days_past_the_month(void **st)
{
	int64_t us;

	assert_int_equal(cora_time_parse(&us, "2026-02-31T10:00:00Z"),
			 CORA_EINVALID);
	assert_int_equal(cora_time_parse(&us, "2026-02-29T10:00:00Z"),
			 CORA_EINVALID);
	assert_int_equal(cora_time_parse(&us, "2026-04-31T10:00:00Z"),
			 CORA_EINVALID);
	assert_int_equal(cora_time_parse(&us, "2024-02-29T10:00:00Z"), 0);
	assert_int_equal(cora_time_parse(&us, "2000-02-29T10:00:00Z"), 0);
	assert_int_equal(cora_time_parse(&us, "1900-02-29T10:00:00Z"),
			 CORA_EINVALID);
}

/* clock.c: an offset could move a time out of the years 0000-9999. */
static void test_time_parse__refuses_offsets_past_the_years(void **st)
{
	int64_t us;

	assert_int_equal(cora_time_parse(&us, "9999-12-31T23:59:59-01:00"),
			 CORA_EINVALID);
	assert_int_equal(cora_time_parse(&us, "0000-01-01T00:00:00+00:01"),
			 CORA_EINVALID);
	assert_int_equal(cora_time_parse(&us, "9999-12-31T23:59:59Z"), 0);
	assert_int_equal(cora_time_parse(&us, "0000-01-01T00:00:00Z"), 0);
}

/* base64.c: EVP_DecodeBlock took '=' inside the text and skipped
 * leading white space. */
static void test_base64_decode__is_strict(void **st)
{
	size_t n = 0;
	char *b;

	assert_null(cora_base64_decode("YQ===Q==", &n));
	assert_null(cora_base64_decode("    YQ==", &n));
	assert_null(cora_base64_decode("Y Q=", &n));
	assert_null(cora_base64_decode("====", &n));
	b = cora_base64_decode("YQ==", &n);
	assert_non_null(b);
	assert_int_equal(n, 1);
	assert_int_equal(b[0], 'a');
	free(b);
	b = cora_base64_decode("", &n);
	assert_non_null(b);
	assert_int_equal(n, 0);
	free(b);
}

/* model.c: ModelFamilyRemoved ran strcmp() on each declared family id,
 * and a ModelDefined payload read back from the log may hold others
 * than strings. */
static void test_model_family_removed__skips_ids_that_are_not_strings(
	void **st)
{
	json_t *s = NULL, *p;

	p = json_pack("{s:s, s:s, s:[i, s, n]}", "model_id", "m",
		      "occurred_at", "2026-05-19T14:03:22+00:00",
		      "declared_family_ids", 1, "f", 2);
	assert_int_equal(cora_evolve(&s, "Model", "ModelDefined", p), 0);
	json_decref(p);
	p = json_pack("{s:s, s:s}", "family_id", "f", "occurred_at",
		      "2026-05-19T14:03:23+00:00");
	assert_int_equal(cora_evolve(&s, "Model", "ModelFamilyRemoved", p), 0);
	json_decref(p);
	assert_int_equal(json_array_size(json_object_get(s,
				"declared_family_ids")), 2);
	json_decref(s);
}

/* dataset.c: a folder or file without mtime_ns takes the command's time
 * in nanoseconds, which overflowed int64 past 2262; it saturates now,
 * like the projections' times. */
static void test_dataset_add_folder__saturates_times_past_2262(void **st)
{
	struct fixture fx;
	struct cora_emit out;
	json_t *s = NULL, *cmd;

	fixture_init(&fx, "5292-01-01T00:00:00+00:00");
	fixture_set_stream(&fx, DS1);
	cmd = json_pack("{s:s}", "slug", "far");
	assert_int_equal(fixture_run(&fx, "dataset.register", &s, cmd, NULL),
			 0);
	json_decref(cmd);
	cmd = json_pack("{s:s}", "path", "sub");
	assert_int_equal(fixture_run(&fx, "dataset.add_folder", &s, cmd,
				     &out), 0);
	assert_int_equal(out.n, 1);
	assert_true(cora_json_int(out.items[0].payload, "mtime_ns", 0) ==
		    INT64_MAX);
	cora_emit_release(&out);
	json_decref(cmd);
	json_decref(s);
	fixture_release(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_format__pads_the_year),
		cmocka_unit_test(test_time_parse__refuses_days_past_the_month),
		cmocka_unit_test(test_time_parse__refuses_offsets_past_the_years),
		cmocka_unit_test(test_base64_decode__is_strict),
		cmocka_unit_test(
			test_model_family_removed__skips_ids_that_are_not_strings),
		cmocka_unit_test(test_dataset_add_folder__saturates_times_past_2262),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
