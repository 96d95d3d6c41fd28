/*
 * bundle.c: the Bundle aggregate, CORA's Edition (reference 3.7) widened
 * to the experiment bundle of 4.3: a citable package of Production
 * datasets together with the runs and instruments (assets) behind them.
 *
 * State machine:
 *
 *     (none) --create--> Registered --seal--> Sealed --publish--> Published
 *                                                     --withdraw--> Withdrawn
 *
 *     transition               command                event
 *     (none) -> Registered     bundle.create          BundleRegistered
 *     Registered (members)     bundle.add_dataset     BundleDatasetAdded
 *                              bundle.remove_dataset  BundleDatasetRemoved
 *                              bundle.add_run         BundleRunAdded
 *                              bundle.remove_run      BundleRunRemoved
 *                              bundle.add_asset       BundleAssetAdded
 *                              bundle.remove_asset    BundleAssetRemoved
 *     Registered (fields)      bundle.set_license     BundleLicenseSet
 *                              bundle.set_creators    BundleCreatorsSet
 *                              bundle.set_publisher   BundlePublisherSet
 *     Registered -> Sealed     bundle.seal            BundleSealed
 *     Sealed -> Published      bundle.publish         BundlePublished
 *     Published -> Withdrawn   bundle.withdraw        BundleWithdrawn
 *
 * Invariants:
 *
 *  1. Members and fields change only while Registered; from Sealed on the
 *     bundle is frozen.
 *  2. dataset_ids, run_ids and asset_ids are sorted sets of ids; creators
 *     is an ordered list of distinct actor ids (never sorted).
 *  3. A Sealed bundle has at least one dataset, every dataset Production
 *     and not Discarded, a licence, creators and a publisher.
 *  4. content_hash (at seal) is the SHA-256 of the canonical bytes
 *     (cora_json_dump: sorted keys, compact) of the manifest
 *
 *         {bundle_id, title, license, creators, publisher,
 *          publication_year, datasets: [{id, checksum, byte_size}],
 *          runs: [id], assets: [id]}
 *
 *     with datasets sorted by id.  published_content_hash (at publish,
 *     carried only in BundlePublished as in CORA) is the same over the
 *     manifest plus "doi".  Publish recomputes the first and refuses
 *     with CORA_EMISMATCH if it moved.
 */
#include "core/aggregate.h"

#include "core/clock.h"
#include "core/cmdarg.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/text.h"
#include "core/uuid.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUNDLE_TITLE_MAX 500
#define BUNDLE_CREATORS_MAX 100

/* ---- small helpers ---------------------------------------------------- */

/* Invariant 1. */
static int need_registered(const json_t *state, const struct cora_ctx *ctx)
{
	if (!state)
		return cora_error_set(CORA_ENOTFOUND,
				      "bundle '%s' does not exist",
				      ctx->stream_id);
	if (!cora_json_is(state, "status", "Registered"))
		return cora_error_set(CORA_ESTATE,
				      "bundle '%s' is %s: it cannot change",
				      cora_label(state),
				      cora_json_str(state, "status"));
	return 0;
}

/* Refuses a lifecycle command from any status but `from`. */
static int need_status(const json_t *state, const char *from,
		       const char *verb, const struct cora_ctx *ctx)
{
	if (!state)
		return cora_error_set(CORA_ENOTFOUND,
				      "bundle '%s' does not exist",
				      ctx->stream_id);
	if (!cora_json_is(state, "status", from))
		return cora_error_set(CORA_ESTATE,
				      "cannot %s bundle '%s': it is %s", verb,
				      cora_label(state),
				      cora_json_str(state, "status"));
	return 0;
}

/* The year of an RFC 3339 time, UTC. */
static int year_of(const char *when)
{
	struct tm tm;
	int64_t us;
	time_t t;

	if (cora_time_parse(&us, when) != 0)
		CORA_BUG("ctx->now is not a time");
	t = (time_t)(us / 1000000);
	gmtime_r(&t, &tm);
	return tm.tm_year + 1900;
}

/* ---- field validation ------------------------------------------------- */

/* Creators: 1..100 distinct actor ids, order kept (invariant 2). */
static int creators_list(json_t **out, const json_t *v)
{
	const json_t *e;
	size_t i, n;

	*out = NULL;
	if (!json_is_array(v))
		return cora_error_set(CORA_EINVALID,
				      "creators must be a list of actor ids");
	n = json_array_size(v);
	if (n < 1 || n > BUNDLE_CREATORS_MAX)
		return cora_error_set(CORA_EINVALID,
				      "creators must list 1 to 100 actors, "
				      "not %zu", n);
	*out = json_array();
	if (!*out)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	json_array_foreach(v, i, e) {
		const char *id = json_string_value(e);
		if (!id || !cora_uuid_valid(id))
			return cora_error_set(CORA_EINVALID,
					      "creator '%s' is not an actor id "
					      "(a UUID)",
					      id ? id : "(not text)");
		if (cora_json_array_has(*out, id))
			return cora_error_set(CORA_EINVALID,
					      "creator '%s' is listed twice",
					      id);
		if (json_array_append_new(*out, json_string(id)))
			return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	return 0;
}

static const char *const kinds[] = {
	"ROCrate", "DataCite", "Croissant", "OAIS_AIP", "OAIS_DIP", "NeXus",
};

static int check_kind(const char *kind)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return 0;
	return cora_error_set(CORA_EINVALID,
			      "bundle kind '%s' is not one of ROCrate, "
			      "DataCite, Croissant, OAIS_AIP, OAIS_DIP, NeXus",
			      kind);
}

/* ---- create ----------------------------------------------------------- */

static int decide_create(const json_t *state, const json_t *cmd,
			 struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *slug, *in_title, *license, *in_publisher, *kind;
	const json_t *other, *in_creators;
	json_t *creators = NULL, *p;
	char *title = NULL, *publisher = NULL;
	bool bad = false;
	struct cora_uuid u;
	int rc;

	if ((rc = cora_arg_str(&slug, cmd, "slug", "bundle slug")) ||
	    (rc = cora_text_slug(slug, "bundle")))
		return rc;
	/* A reference is an id or a slug: a slug shaped like an id would
	 * be ambiguous. */
	if (cora_uuid_parse(&u, slug) == 0)
		return cora_error_set(CORA_EINVALID,
				      "bundle slug '%s' may not be a uuid",
				      slug);
	if (state || ctx->lookup(ctx, "Bundle", slug, &other) == 0)
		return cora_error_set(CORA_EEXISTS,
				      "bundle '%s' already exists", slug);
	if ((rc = cora_arg_str(&in_title, cmd, "title", "bundle title")) ||
	    (rc = cora_arg_opt_str(&license, cmd, "license", "licence")) ||
	    (rc = cora_arg_opt_str(&in_publisher, cmd, "publisher",
				   "publisher")) ||
	    (rc = cora_arg_opt_str(&kind, cmd, "kind", "bundle kind")) ||
	    (license && (rc = cora_text_spdx(license))) ||
	    (kind && (rc = check_kind(kind))))
		return rc;
	in_creators = json_object_get(cmd, "creators");
	if ((rc = cora_text_bounded(&title, in_title, 1, BUNDLE_TITLE_MAX,
				    "bundle title")) ||
	    (in_publisher &&
	     (rc = cora_text_facility_code(&publisher, in_publisher))))
		goto out;
	if (in_creators && !json_is_null(in_creators))
		rc = creators_list(&creators, in_creators);
	else if (!(creators = json_array()))
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
	if (rc)
		goto out;

	p = cora_payload_new(ctx, "bundle_id");
	cora_json_put(p, "slug", json_string(slug), &bad);
	cora_json_put(p, "title", json_string(title), &bad);
	cora_json_put(p, "kind", json_string(kind ? kind : "ROCrate"), &bad);
	cora_json_put(p, "license", cora_json_str_or_null(license), &bad);
	cora_json_put(p, "creators", json_incref(creators), &bad);
	cora_json_put(p, "publisher_facility_code",
		      cora_json_str_or_null(publisher), &bad);
	rc = cora_emit_by(out, "BundleRegistered", p, "registered_by", ctx,
			  bad);
out:
	free(title);
	free(publisher);
	json_decref(creators);
	return rc;
}

/* ---- members ---------------------------------------------------------- */

/* One kind of member; the deciders and evolvers of all three read it. */
struct member {
	const char *stream_type;  /* Dataset */
	const char *noun;         /* dataset (messages, command key) */
	const char *field;        /* dataset_ids (state) */
	const char *id_key;       /* dataset_id (payload) */
	const char *added;        /* BundleDatasetAdded */
	const char *removed;      /* BundleDatasetRemoved */
	bool refuse_discarded;
};

static const struct member members[] = {
	{ "Dataset", "dataset", "dataset_ids", "dataset_id",
	  "BundleDatasetAdded", "BundleDatasetRemoved", true },
	{ "Run", "run", "run_ids", "run_id", "BundleRunAdded",
	  "BundleRunRemoved", false },
	{ "Asset", "asset", "asset_ids", "asset_id", "BundleAssetAdded",
	  "BundleAssetRemoved", false },
};

#define N_MEMBERS (sizeof(members) / sizeof(members[0]))

static const struct member *member_by_event(const char *type, bool *add)
{
	size_t i;

	for (i = 0; i < N_MEMBERS; i++) {
		*add = strcmp(members[i].added, type) == 0;
		if (*add || strcmp(members[i].removed, type) == 0)
			return &members[i];
	}
	CORA_BUG("bundle member event without a member row");
}

static int decide_member(const char *stream_type, bool add,
			 const json_t *state, const json_t *cmd,
			 struct cora_ctx *ctx, struct cora_emit *out)
{
	const struct member *m = NULL;
	const json_t *target, *set;
	const char *ref, *id;
	bool bad = false, has;
	size_t i;
	json_t *p;
	int rc;

	for (i = 0; i < N_MEMBERS; i++)
		if (strcmp(members[i].stream_type, stream_type) == 0)
			m = &members[i];
	if (!m)
		CORA_BUG("no bundle member row");
	if ((rc = need_registered(state, ctx)) ||
	    (rc = cora_arg_str(&ref, cmd, m->noun, m->noun)))
		return rc;
	if (ctx->lookup(ctx, m->stream_type, ref, &target) != 0)
		return cora_error_set(CORA_ENOTFOUND, "%s '%s' does not exist",
				      m->noun, ref);
	id = cora_json_str(target, "id");
	set = json_object_get(state, m->field);
	has = cora_json_array_has(set, id);
	if (add && has)
		return cora_error_set(CORA_EEXISTS,
				      "%s '%s' is already in bundle '%s'",
				      m->noun, ref, cora_label(state));
	if (!add && !has)
		return cora_error_set(CORA_ENOTFOUND,
				      "%s '%s' is not in bundle '%s'", m->noun,
				      ref, cora_label(state));
	if (add && m->refuse_discarded && cora_json_is(target, "status",
						       "Discarded"))
		return cora_error_set(CORA_ESTATE,
				      "cannot add %s '%s' to bundle '%s': it "
				      "is Discarded", m->noun, ref,
				      cora_label(state));
	p = cora_payload_new(ctx, "bundle_id");
	cora_json_put(p, m->id_key, json_string(id), &bad);
	return cora_emit_by(out, add ? m->added : m->removed, p,
		       add ? "added_by" : "removed_by", ctx, bad);
}

#define MEMBER(fn, type, add)                                               \
	static int fn(const json_t *state, const json_t *cmd,                \
		      struct cora_ctx *ctx, struct cora_emit *out)           \
	{                                                                    \
		return decide_member(type, add, state, cmd, ctx, out);       \
	}

MEMBER(decide_add_dataset, "Dataset", true)
MEMBER(decide_remove_dataset, "Dataset", false)
MEMBER(decide_add_run, "Run", true)
MEMBER(decide_remove_run, "Run", false)
MEMBER(decide_add_asset, "Asset", true)
MEMBER(decide_remove_asset, "Asset", false)

/* ---- fields ----------------------------------------------------------- */

/* The set commands emit nothing when the value is already the same. */

static int decide_set_license(const json_t *state, const json_t *cmd,
			      struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *license;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = need_registered(state, ctx)) ||
	    (rc = cora_arg_str(&license, cmd, "license", "licence")) ||
	    (rc = cora_text_spdx(license)))
		return rc;
	if (cora_json_is(state, "license", license))
		return 0;
	p = cora_payload_new(ctx, "bundle_id");
	cora_json_put(p, "license", json_string(license), &bad);
	return cora_emit_by(out, "BundleLicenseSet", p, "set_by", ctx, bad);
}

static int decide_set_creators(const json_t *state, const json_t *cmd,
			       struct cora_ctx *ctx, struct cora_emit *out)
{
	json_t *creators, *p;
	bool bad = false;
	int rc;

	if ((rc = need_registered(state, ctx)))
		return rc;
	rc = creators_list(&creators, json_object_get(cmd, "creators"));
	if (rc || json_equal(creators, json_object_get(state, "creators"))) {
		json_decref(creators);
		return rc;
	}
	p = cora_payload_new(ctx, "bundle_id");
	cora_json_put(p, "creators", creators, &bad);
	return cora_emit_by(out, "BundleCreatorsSet", p, "set_by", ctx, bad);
}

static int decide_set_publisher(const json_t *state, const json_t *cmd,
				struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *in;
	char *publisher;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = need_registered(state, ctx)) ||
	    (rc = cora_arg_str(&in, cmd, "publisher", "publisher")) ||
	    (rc = cora_text_facility_code(&publisher, in)))
		return rc;
	if (cora_json_is(state, "publisher_facility_code", publisher)) {
		free(publisher);
		return 0;
	}
	p = cora_payload_new(ctx, "bundle_id");
	cora_json_put(p, "publisher_facility_code", json_string(publisher),
		      &bad);
	free(publisher);
	return cora_emit_by(out, "BundlePublisherSet", p, "set_by", ctx, bad);
}

/* ---- seal, publish, withdraw ------------------------------------------ */

/* Invariant 4.  The dataset entries come from the datasets' states now;
 * they are Production, so their checksums are frozen. */
static int manifest(json_t **out, const json_t *state, json_int_t year,
		    struct cora_ctx *ctx)
{
	const json_t *e, *ds;
	json_t *m, *datasets;
	bool bad = false;
	size_t i;

	*out = NULL;
	m = json_object();
	datasets = json_array();
	cora_json_put(m, "datasets", datasets, &bad);
	json_array_foreach(json_object_get(state, "dataset_ids"), i, e) {
		const char *id = json_string_value(e);
		if (ctx->lookup(ctx, "Dataset", id, &ds) != 0) {
			json_decref(m);
			return cora_error_set(CORA_ENOTFOUND,
					      "dataset '%s' does not exist",
					      id);
		}
		if (json_array_append_new(datasets,
				json_pack("{s:s, s:O?, s:O?}", "id", id,
					  "checksum",
					  json_object_get(ds, "checksum"),
					  "byte_size",
					  json_object_get(ds, "byte_size"))))
			bad = true;
	}
	/* dataset_ids is sorted already (invariant 2); sorting again keeps
	 * the manifest right even for a hand-made state. */
	cora_json_sort_objects(datasets, "id", NULL);
	cora_json_put(m, "bundle_id", cora_json_copy_of(state, "id"), &bad);
	cora_json_put(m, "title", cora_json_copy_of(state, "title"), &bad);
	cora_json_put(m, "license", cora_json_copy_of(state, "license"),
	    &bad);
	cora_json_put(m, "creators", cora_json_copy_of(state, "creators"),
	    &bad);
	cora_json_put(m, "publisher",
	    cora_json_copy_of(state, "publisher_facility_code"),
	    &bad);
	cora_json_put(m, "publication_year", json_integer(year), &bad);
	cora_json_put(m, "runs", cora_json_copy_of(state, "run_ids"), &bad);
	cora_json_put(m, "assets", cora_json_copy_of(state, "asset_ids"),
	    &bad);
	if (bad) {
		json_decref(m);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	*out = m;
	return 0;
}

static int manifest_hash(char hex[CORA_SHA256_HEXLEN + 1], const json_t *m)
{
	char *bytes = cora_json_dump(m);

	if (!bytes)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	cora_sha256_buf(hex, bytes, strlen(bytes));
	free(bytes);
	return 0;
}

/* Invariant 3, in the order CORA checks it; the first offending dataset
 * (in id order) is named. */
static int seal_guards(const json_t *state, const char *verb,
		       struct cora_ctx *ctx)
{
	const json_t *ids = json_object_get(state, "dataset_ids"), *e, *ds;
	const char *name = cora_label(state);
	size_t i;
	int pass;

	if (json_array_size(ids) == 0)
		return cora_error_set(CORA_ESTATE,
				      "cannot %s bundle '%s': it has no "
				      "datasets", verb, name);
	for (pass = 0; pass < 2; pass++) {
		json_array_foreach(ids, i, e) {
			const char *id = json_string_value(e), *intent;
			if (ctx->lookup(ctx, "Dataset", id, &ds) != 0)
				return cora_error_set(CORA_ENOTFOUND,
					"cannot %s bundle '%s': dataset '%s' "
					"does not exist", verb, name, id);
			if (pass == 0 && cora_json_is(ds, "status",
						      "Discarded"))
				return cora_error_set(CORA_ESTATE,
					"cannot %s bundle '%s': dataset '%s' "
					"is Discarded", verb, name,
					cora_label(ds));
			intent = cora_json_str(ds, "intent");
			if (pass == 1 && !cora_json_is(ds, "intent",
						       "Production"))
				return cora_error_set(CORA_ESTATE,
					"cannot %s bundle '%s': dataset '%s' "
					"is %s, not Production", verb, name,
					cora_label(ds),
					intent ? intent : "unknown");
		}
	}
	return 0;
}

static int decide_seal(const json_t *state, const json_t *cmd,
		       struct cora_ctx *ctx, struct cora_emit *out)
{
	char hex[CORA_SHA256_HEXLEN + 1];
	const json_t *in_year;
	json_int_t year, now_year;
	const char *name;
	json_t *m, *p;
	bool bad = false;
	int rc;

	if ((rc = need_status(state, "Registered", "seal", ctx)) ||
	    (rc = seal_guards(state, "seal", ctx)))
		return rc;
	name = cora_label(state);
	if (!cora_json_str(state, "license"))
		return cora_error_set(CORA_ESTATE,
				      "cannot seal bundle '%s': it has no "
				      "licence", name);
	if (json_array_size(json_object_get(state, "creators")) == 0)
		return cora_error_set(CORA_ESTATE,
				      "cannot seal bundle '%s': it has no "
				      "creators", name);
	if (!cora_json_str(state, "publisher_facility_code"))
		return cora_error_set(CORA_ESTATE,
				      "cannot seal bundle '%s': it has no "
				      "publisher", name);
	now_year = year_of(ctx->now);
	year = now_year;
	in_year = json_object_get(cmd, "year");
	if (in_year && !json_is_null(in_year)) {
		if (!json_is_integer(in_year))
			return cora_error_set(CORA_EINVALID,
					      "publication year must be an "
					      "integer");
		year = json_integer_value(in_year);
		if (year < 1900 || year > now_year + 5)
			return cora_error_set(CORA_EINVALID,
					      "publication year %lld is "
					      "outside 1900 to %lld",
					      (long long)year,
					      (long long)now_year + 5);
	}
	if ((rc = manifest(&m, state, year, ctx)))
		return rc;
	rc = manifest_hash(hex, m);
	json_decref(m);
	if (rc)
		return rc;
	p = cora_payload_new(ctx, "bundle_id");
	cora_json_put(p, "sealed_dataset_ids",
	    cora_json_copy_of(state, "dataset_ids"), &bad);
	cora_json_put(p, "content_hash", json_string(hex), &bad);
	cora_json_put(p, "publisher_facility_code",
	    cora_json_copy_of(state, "publisher_facility_code"),
	    &bad);
	cora_json_put(p, "publication_year", json_integer(year), &bad);
	cora_json_put(p, "license", cora_json_copy_of(state, "license"),
	    &bad);
	return cora_emit_by(out, "BundleSealed", p, "sealed_by", ctx, bad);
}

static int decide_publish(const json_t *state, const json_t *cmd,
			  struct cora_ctx *ctx, struct cora_emit *out)
{
	char sealed[CORA_SHA256_HEXLEN + 1], published[CORA_SHA256_HEXLEN + 1];
	const char *doi, *expected;
	bool bad = false;
	json_t *m, *p;
	int rc;

	if ((rc = need_status(state, "Sealed", "publish", ctx)) ||
	    (rc = cora_arg_str(&doi, cmd, "doi", "DOI")) ||
	    (rc = cora_text_doi(doi)))
		return rc;
	/* A member discarded or retracted after sealing must not get a
	 * DOI: the seal's guards hold at publication too. */
	if ((rc = seal_guards(state, "publish", ctx)))
		return rc;
	if ((rc = manifest(&m, state,
			   cora_json_int(state, "publication_year", 0), ctx)))
		return rc;
	rc = manifest_hash(sealed, m);
	expected = cora_json_str(state, "content_hash");
	if (rc == 0 && (!expected || strcmp(sealed, expected) != 0))
		rc = cora_error_set(CORA_EMISMATCH,
				    "cannot publish bundle '%s': its content "
				    "changed since it was sealed",
				    cora_label(state));
	if (rc == 0 && json_object_set_new(m, "doi", json_string(doi)))
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
	if (rc == 0)
		rc = manifest_hash(published, m);
	json_decref(m);
	if (rc)
		return rc;
	p = cora_payload_new(ctx, "bundle_id");
	cora_json_put(p, "external_pid_scheme", json_string("DOI"), &bad);
	cora_json_put(p, "external_pid_value", json_string(doi), &bad);
	cora_json_put(p, "published_content_hash", json_string(published),
		      &bad);
	return cora_emit_by(out, "BundlePublished", p, "published_by", ctx,
			    bad);
}

static int decide_withdraw(const json_t *state, const json_t *cmd,
			   struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *in_reason;
	char *reason;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = need_status(state, "Published", "withdraw", ctx)) ||
	    (rc = cora_arg_str(&in_reason, cmd, "reason", "reason")) ||
	    (rc = cora_text_reason(&reason, in_reason)))
		return rc;
	p = cora_payload_new(ctx, "bundle_id");
	cora_json_put(p, "reason", json_string(reason), &bad);
	free(reason);
	return cora_emit_by(out, "BundleWithdrawn", p, "withdrawn_by", ctx,
			    bad);
}

/* ---- evolvers --------------------------------------------------------- */

/* State key <- BundleRegistered key. */
static const struct cora_field_map registered_fields[] = {
	{ "id", "bundle_id" },
	{ "slug", "slug" },
	{ "title", "title" },
	{ "kind", "kind" },
	{ "license", "license" },
	{ "creators", "creators" },
	{ "publisher_facility_code", "publisher_facility_code" },
};

static int evolve_registered(json_t **state, const char *type,
			     const json_t *p)
{
	bool bad = false;
	json_t *s;
	int rc;

	if ((rc = cora_state_from(&s, type, p, "bundle_id", registered_fields,
				  sizeof(registered_fields) /
				  sizeof(registered_fields[0]), &bad)))
		return rc;
	cora_json_put(s, "dataset_ids", json_array(), &bad);
	cora_json_put(s, "run_ids", json_array(), &bad);
	cora_json_put(s, "asset_ids", json_array(), &bad);
	cora_json_put(s, "status", json_string("Registered"), &bad);
	cora_json_put(s, "content_hash", json_null(), &bad);
	cora_json_put(s, "publication_year", json_null(), &bad);
	cora_json_put(s, "external_pid", json_null(), &bad);
	return cora_state_done(state, s, bad);
}

static int evolve_member(json_t **state, const char *type, const json_t *p)
{
	bool add;
	const struct member *m = member_by_event(type, &add);
	const char *id = cora_json_str(p, m->id_key);
	json_t *set = json_object_get(*state, m->field);
	ssize_t k = -1;
	size_t i;
	json_t *e;

	if (!id || !json_is_array(set))
		return cora_error_set(CORA_ECORRUPT, "malformed %s payload",
				      type);
	if (add) {
		if (json_array_append_new(set, json_string(id)))
			return cora_error_set(CORA_ENOMEM, "out of memory");
		cora_json_sort_strings(set);
		return 0;
	}
	json_array_foreach(set, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), id) == 0)
			k = (ssize_t)i;
	if (k >= 0)
		json_array_remove(set, (size_t)k);
	return 0;
}

/* Field events: copy the named payload keys into the state. */
static int evolve_fields(json_t **state, const char *type, const json_t *p)
{
	static const char *const copied[] = {
		"license", "creators", "publisher_facility_code",
		"content_hash", "publication_year",
	};
	bool bad = false;
	size_t i;

	for (i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
		if (json_object_get(p, copied[i]))
			cora_json_put(*state, copied[i],
			    json_deep_copy(json_object_get(p, copied[i])),
			    &bad);
	return bad ? cora_error_set(CORA_ENOMEM, "out of memory") : 0;
}

static int evolve_sealed(json_t **state, const char *type, const json_t *p)
{
	bool bad = false;

	cora_json_put(*state, "status", json_string("Sealed"), &bad);
	return bad ? cora_error_set(CORA_ENOMEM, "out of memory") :
		     evolve_fields(state, type, p);
}

static int evolve_published(json_t **state, const char *type,
			    const json_t *p)
{
	bool bad = false;

	cora_json_put(*state, "status", json_string("Published"), &bad);
	cora_json_put(*state, "external_pid",
	    json_pack("{s:O?, s:O?}", "scheme",
		      json_object_get(p, "external_pid_scheme"), "value",
		      json_object_get(p, "external_pid_value")), &bad);
	return bad ? cora_error_set(CORA_ENOMEM, "out of memory") : 0;
}

static int evolve_withdrawn(json_t **state, const char *type,
			    const json_t *p)
{
	bool bad = false;

	cora_json_put(*state, "status", json_string("Withdrawn"), &bad);
	return bad ? cora_error_set(CORA_ENOMEM, "out of memory") : 0;
}

/* ---- tables ----------------------------------------------------------- */

static const char *const k_none[] = { NULL };
static const char *const k_registered[] = {
	"bundle_id", "slug", "title", "kind", "license", "creators",
	"publisher_facility_code", "occurred_at", "registered_by", NULL,
};
static const char *const k_ds_added[] = {
	"bundle_id", "dataset_id", "occurred_at", "added_by", NULL,
};
static const char *const k_ds_removed[] = {
	"bundle_id", "dataset_id", "occurred_at", "removed_by", NULL,
};
static const char *const k_run_added[] = {
	"bundle_id", "run_id", "occurred_at", "added_by", NULL,
};
static const char *const k_run_removed[] = {
	"bundle_id", "run_id", "occurred_at", "removed_by", NULL,
};
static const char *const k_asset_added[] = {
	"bundle_id", "asset_id", "occurred_at", "added_by", NULL,
};
static const char *const k_asset_removed[] = {
	"bundle_id", "asset_id", "occurred_at", "removed_by", NULL,
};
static const char *const k_license[] = {
	"bundle_id", "license", "occurred_at", "set_by", NULL,
};
static const char *const k_creators[] = {
	"bundle_id", "creators", "occurred_at", "set_by", NULL,
};
static const char *const k_publisher[] = {
	"bundle_id", "publisher_facility_code", "occurred_at", "set_by", NULL,
};
static const char *const k_sealed[] = {
	"bundle_id", "sealed_dataset_ids", "content_hash",
	"publisher_facility_code", "publication_year", "license",
	"occurred_at", "sealed_by", NULL,
};
static const char *const k_published[] = {
	"bundle_id", "external_pid_scheme", "external_pid_value",
	"published_content_hash", "occurred_at", "published_by", NULL,
};
static const char *const k_withdrawn[] = {
	"bundle_id", "reason", "occurred_at", "withdrawn_by", NULL,
};

#define EV(t, k, g, fn) { .type = (t), .stream_type = "Bundle", .keys = (k), \
	.optional_keys = k_none, .genesis = (g), .evolve = (fn) }

const struct cora_event_def cora_bundle_events[] = {
	EV("BundleRegistered", k_registered, true, evolve_registered),
	EV("BundleDatasetAdded", k_ds_added, false, evolve_member),
	EV("BundleDatasetRemoved", k_ds_removed, false, evolve_member),
	EV("BundleRunAdded", k_run_added, false, evolve_member),
	EV("BundleRunRemoved", k_run_removed, false, evolve_member),
	EV("BundleAssetAdded", k_asset_added, false, evolve_member),
	EV("BundleAssetRemoved", k_asset_removed, false, evolve_member),
	EV("BundleLicenseSet", k_license, false, evolve_fields),
	EV("BundleCreatorsSet", k_creators, false, evolve_fields),
	EV("BundlePublisherSet", k_publisher, false, evolve_fields),
	EV("BundleSealed", k_sealed, false, evolve_sealed),
	EV("BundlePublished", k_published, false, evolve_published),
	EV("BundleWithdrawn", k_withdrawn, false, evolve_withdrawn),
	{ .type = NULL },
};

#define CMD(n, g, fn) { .name = (n), .stream_type = "Bundle", .genesis = (g), \
	.decide = (fn) }

const struct cora_command_def cora_bundle_commands[] = {
	CMD("bundle.create", true, decide_create),
	CMD("bundle.add_dataset", false, decide_add_dataset),
	CMD("bundle.remove_dataset", false, decide_remove_dataset),
	CMD("bundle.add_run", false, decide_add_run),
	CMD("bundle.remove_run", false, decide_remove_run),
	CMD("bundle.add_asset", false, decide_add_asset),
	CMD("bundle.remove_asset", false, decide_remove_asset),
	CMD("bundle.set_license", false, decide_set_license),
	CMD("bundle.set_creators", false, decide_set_creators),
	CMD("bundle.set_publisher", false, decide_set_publisher),
	CMD("bundle.seal", false, decide_seal),
	CMD("bundle.publish", false, decide_publish),
	CMD("bundle.withdraw", false, decide_withdraw),
	{ .name = NULL },
};
