/*
 * model.c: the Model aggregate (reference 2.2 and 2.4), a row of the
 * vendor catalogue: a manufacturer, a part number and the families the
 * product belongs to.  An asset binds to at most one Model, and PIDINST
 * takes its Manufacturer and Model properties from it.
 *
 * Id (reference 1.2, "Variant A"): facilities that define the same
 * product converge on the same stream,
 *
 *     uuid5(CORA_NS_MODEL, "<len(m)>:<m>\x1f<p>")
 *       m = NFC(lower(trimmed manufacturer name)), len in code points
 *       p = NFC(trimmed part number), case kept
 *
 * except for the part number 'unknown-pending-confirmation' (any case),
 * which stands for many different products and gets a fresh UUIDv7.
 *
 * States:
 *
 *     model.define --> Defined --model.deprecate--> Deprecated (terminal)
 *
 * Invariants:
 *
 *  1. A second model.define of the same manufacturer and part number
 *     names an existing stream and is refused (CORA_EEXISTS).
 *  2. The manufacturer's identifier and identifier_type are both set or
 *     both absent; identifier_type is ROR, GRID or ISNI.
 *  3. declared_family_ids is a sorted set of families that existed when
 *     they were added.
 *  4. A Deprecated model takes no family changes.
 *  5. A slug, when given, is unique among models and is not a UUID.
 */
#include "core/aggregate.h"

#include "core/cmdarg.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/text.h"
#include "core/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const identifier_types[] = { "ROR", "GRID", "ISNI", NULL };

/* ---- helpers ---------------------------------------------------------- */

static bool deprecated(const json_t *state)
{
	const char *s = cora_json_str(state, "status");

	return s && strcmp(s, "Deprecated") == 0;
}

/* ---- the id ------------------------------------------------------------------ */

static int model_id(const json_t *cmd, char out[37])
{
	const json_t *man = json_object_get(cmd, "manufacturer");
	char *name = NULL, *part = NULL, *m = NULL, *p = NULL, *key = NULL;
	int rc, n;

	if ((rc = cora_text_bounded(&name, cora_json_str(man, "name"), 1, 200,
				    "manufacturer name")) ||
	    (rc = cora_text_bounded(&part, cora_json_str(cmd, "part_number"),
				    1, 100, "part number")))
		goto out;
	/* lower() as Python has it, so a Kelvin sign reads as 'k' too. */
	if ((rc = cora_nfc_lower(&p, part)))
		goto out;
	if (strcmp(p, "unknown-pending-confirmation") == 0) {
		cora_uuid_v7_str(out);
		goto out;
	}
	free(p);
	p = NULL;
	if ((rc = cora_nfc_lower(&m, name)) || (rc = cora_nfc(&p, part)))
		goto out;
	n = asprintf(&key, "%zu:%s\x1f%s", cora_utf8_length(m), m, p);
	if (n < 0) {
		key = NULL;
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto out;
	}
	cora_uuid_v5_str(out, CORA_NS_MODEL, key, (size_t)n);
out:
	free(name);
	free(part);
	free(m);
	free(p);
	free(key);
	return rc;
}

/* ---- define ------------------------------------------------------------------- */

/* {name, identifier?, identifier_type?} into the payload's manufacturer,
 * which leaves the identifier pair out when it is absent. */
static int parse_manufacturer(json_t **out, const json_t *in)
{
	const char *raw, *type;
	char *name = NULL, *ident = NULL;
	int rc;

	*out = NULL;
	if (!in || json_is_null(in))
		return cora_error_set(CORA_EINVALID, "manufacturer is missing");
	if (!json_is_object(in))
		return cora_error_set(CORA_EINVALID,
				      "manufacturer must be an object with a "
				      "name");
	if ((rc = cora_text_bounded(&name, cora_json_str(in, "name"), 1, 200,
				    "manufacturer name")) ||
	    (rc = cora_arg_opt_str(&raw, in, "identifier",
				   "manufacturer identifier")))
		goto out;
	if (raw && (rc = cora_text_bounded(&ident, raw, 1, 200,
					   "manufacturer identifier")))
		goto out;
	if ((rc = cora_arg_opt_str(&type, in, "identifier_type",
				   "manufacturer identifier type")))
		goto out;
	if (type && !cora_one_of(type, identifier_types)) {
		rc = cora_error_set(CORA_EINVALID,
				    "manufacturer identifier type '%s' must be "
				    "ROR, GRID or ISNI", type);
		goto out;
	}
	if (!ident != !type) {
		rc = cora_error_set(CORA_EINVALID,
				    "manufacturer '%s': identifier and "
				    "identifier_type go together, give both or "
				    "neither", name);
		goto out;
	}
	*out = ident ? json_pack("{s:s, s:s, s:s}", "name", name,
				 "identifier", ident, "identifier_type", type) :
		json_pack("{s:s}", "name", name);
	if (!*out)
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
out:
	free(name);
	free(ident);
	return rc;
}

static int decide_define(const json_t *state, const json_t *cmd,
			 struct cora_ctx *ctx, struct cora_emit *out)
{
	const json_t *list, *v, *fam;
	const char *slug;
	char *name = NULL, *part = NULL;
	json_t *man = NULL, *ids = json_array(), *p;
	size_t i;
	int rc;

	if (state) {
		rc = cora_error_set(CORA_EEXISTS, "model '%s' already exists",
				    cora_label_named(state));
		goto out;
	}
	if (!ids) {
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = cora_text_bounded(&name, cora_json_str(cmd, "name"), 1, 200,
				    "model name")) ||
	    (rc = parse_manufacturer(&man, json_object_get(cmd,
							  "manufacturer"))) ||
	    (rc = cora_text_bounded(&part, cora_json_str(cmd, "part_number"),
				    1, 100, "part number")) ||
	    (rc = cora_arg_opt_str(&slug, cmd, "slug", "model slug")))
		goto out;
	if (slug && (rc = cora_check_slug(ctx, "Model", "model", slug)))
		goto out;
	list = json_object_get(cmd, "families");
	if (list && !json_is_null(list) && !json_is_array(list)) {
		rc = cora_error_set(CORA_EINVALID, "families must be a list");
		goto out;
	}
	json_array_foreach(list, i, v) {
		if (!json_is_string(v)) {
			rc = cora_error_set(CORA_EINVALID,
					    "families must be a list of family "
					    "names or ids");
			goto out;
		}
		rc = cora_resolve(ctx, "Family", "family", json_string_value(v),
			     &fam);
		if (rc)
			goto out;
		cora_json_set_add(ids, cora_json_str(fam, "id"));
	}

	p = cora_payload_new(ctx, "model_id");
	if (p) {
		json_object_set_new(p, "name", json_string(name));
		json_object_set(p, "manufacturer", man);
		json_object_set_new(p, "part_number", json_string(part));
		json_object_set(p, "declared_family_ids", ids);
		if (slug)
			json_object_set_new(p, "slug", json_string(slug));
	}
	rc = cora_emit(out, "ModelDefined", p);
out:
	free(name);
	free(part);
	json_decref(man);
	json_decref(ids);
	return rc;
}

/* ---- families and deprecation ----------------------------------------------- */

static int family_change(bool add, const json_t *state, const json_t *cmd,
			 struct cora_ctx *ctx, struct cora_emit *out)
{
	const json_t *declared, *fam = NULL;
	const char *ref, *fid;
	json_t *p;
	int rc;

	if ((rc = cora_need_state(state, ctx, "model")))
		return rc;
	if (deprecated(state))
		return cora_error_set(CORA_ESTATE,
				      "cannot %s model '%s': it is Deprecated",
				      add ? "add a family to" :
				      "remove a family from",
				      cora_label_named(state));
	if ((rc = cora_arg_opt_str(&ref, cmd, "family", "family")))
		return rc;
	declared = json_object_get(state, "declared_family_ids");
	/* Removing an id in the set needs no lookup. */
	if (!add && ref && cora_json_array_has(declared, ref))
		fid = ref;
	else if ((rc = cora_resolve(ctx, "Family", "family", ref, &fam)))
		return rc;
	else
		fid = cora_json_str(fam, "id");
	if (add && cora_json_array_has(declared, fid))
		return cora_error_set(CORA_EEXISTS,
				      "model '%s' already declares family '%s'",
				      cora_label_named(state),
				      fam ? cora_label_named(fam) : ref);
	if (!add && !cora_json_array_has(declared, fid))
		return cora_error_set(CORA_ENOTFOUND,
				      "model '%s' does not declare family '%s'",
				      cora_label_named(state),
				      fam ? cora_label_named(fam) : ref);
	p = cora_payload_new(ctx, "model_id");
	if (p)
		json_object_set_new(p, "family_id", json_string(fid));
	return cora_emit(out, add ? "ModelFamilyAdded" : "ModelFamilyRemoved",
			 p);
}

static int decide_add_family(const json_t *state, const json_t *cmd,
			     struct cora_ctx *ctx, struct cora_emit *out)
{
	return family_change(true, state, cmd, ctx, out);
}

static int decide_remove_family(const json_t *state, const json_t *cmd,
				struct cora_ctx *ctx, struct cora_emit *out)
{
	return family_change(false, state, cmd, ctx, out);
}

static int decide_deprecate(const json_t *state, const json_t *cmd,
			    struct cora_ctx *ctx, struct cora_emit *out)
{
	return cora_decide_deprecate(state, cmd, ctx, out, "model", "model_id",
				     "ModelDeprecated");
}

/* ---- evolvers ------------------------------------------------------------------ */

static int evolve_defined(json_t **state, const char *type, const json_t *p)
{
	const json_t *v;
	json_t *s = json_object();

	if (!s)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	json_object_set_new(s, "id", cora_json_copy_of(p, "model_id"));
	if ((v = json_object_get(p, "slug")))
		json_object_set_new(s, "slug", json_deep_copy(v));
	json_object_set_new(s, "name", cora_json_copy_of(p, "name"));
	json_object_set_new(s, "manufacturer",
			    cora_json_copy_of(p, "manufacturer"));
	json_object_set_new(s, "part_number",
			    cora_json_copy_of(p, "part_number"));
	v = json_object_get(p, "declared_family_ids");
	json_object_set_new(s, "declared_family_ids",
			    v ? json_deep_copy(v) : json_array());
	json_object_set_new(s, "status", json_string("Defined"));
	*state = s;
	return 0;
}

static int evolve_family(json_t **state, const char *type, const json_t *p)
{
	json_t *ids = json_object_get(*state, "declared_family_ids"), *v;
	const char *fid = cora_json_str(p, "family_id");
	size_t i;

	if (!fid)
		return cora_error_set(CORA_ECORRUPT, "%s without family_id",
				      type);
	if (!json_is_array(ids)) {
		ids = json_array();
		json_object_set_new(*state, "declared_family_ids", ids);
	}
	if (strcmp(type, "ModelFamilyAdded") == 0) {
		cora_json_set_add(ids, fid);
		return 0;
	}
	/* declared_family_ids comes from the ModelDefined payload as
	 * written in the log: skip what is not a string. */
	json_array_foreach(ids, i, v) {
		const char *s = json_string_value(v);
		if (s && strcmp(s, fid) == 0) {
			json_array_remove(ids, i);
			break;
		}
	}
	return 0;
}

static int evolve_deprecated(json_t **state, const char *type,
			     const json_t *p)
{
	json_object_set_new(*state, "status", json_string("Deprecated"));
	return 0;
}

/* ---- tables ----------------------------------------------------------------------- */

static const char *const none[] = { NULL };
static const char *const k_defined[] = {
	"model_id", "name", "manufacturer", "part_number",
	"declared_family_ids", "occurred_at", NULL,
};
static const char *const o_defined[] = { "slug", NULL };
static const char *const k_family[] = {
	"model_id", "family_id", "occurred_at", NULL,
};
static const char *const k_deprecated[] = {
	"model_id", "occurred_at", NULL,
};
static const char *const o_deprecated[] = { "reason", NULL };

#define EVENT(t, k, o, g, fn) \
	{ .type = (t), .stream_type = "Model", .keys = (k), \
	  .optional_keys = (o), .genesis = (g), .evolve = (fn) }

const struct cora_event_def cora_model_events[] = {
	EVENT("ModelDefined", k_defined, o_defined, true, evolve_defined),
	EVENT("ModelFamilyAdded", k_family, none, false, evolve_family),
	EVENT("ModelFamilyRemoved", k_family, none, false, evolve_family),
	EVENT("ModelDeprecated", k_deprecated, o_deprecated, false,
	      evolve_deprecated),
	{ .type = NULL },
};

const struct cora_command_def cora_model_commands[] = {
	{ .name = "model.define", .stream_type = "Model", .genesis = true,
	  .decide = decide_define, .genesis_id = model_id },
	{ .name = "model.add_family", .stream_type = "Model",
	  .decide = decide_add_family },
	{ .name = "model.remove_family", .stream_type = "Model",
	  .decide = decide_remove_family },
	{ .name = "model.deprecate", .stream_type = "Model",
	  .decide = decide_deprecate },
	{ .name = NULL },
};
