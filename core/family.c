/*
 * family.c: the Family aggregate (reference 2.2 and 2.4), a class of
 * device (RotaryStage, Camera, Scintillator, ...) with the affordances it
 * claims: what a device of the class can do.  Assets belong to families;
 * PIDINST lists them as InstrumentType, and an acquisition needs a
 * family that affords Capturing.
 *
 * Id (reference 1.2): uuid5(CORA_NS_FAMILY, lower(NFC(trimmed name))), so
 * facilities converge and a name differing only in case is the same
 * family.
 *
 * States:
 *
 *     family.define --> Defined --family.deprecate--> Deprecated (terminal)
 *
 * Invariants:
 *
 *  1. A second family.define of the same name (any case) names an
 *     existing stream and is refused (CORA_EEXISTS).
 *  2. affordances is a sorted set drawn from the closed enum below.
 *  3. The slug is the one given, else the name when it is a valid slug,
 *     else there is none; it is unique among families and not a UUID.
 */
#include "core/aggregate.h"

#include "core/cmdarg.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/text.h"
#include "core/uuid.h"

#include <stdlib.h>
#include <string.h>

/* The closed enum of CORA's family/affordance.py (28 values, add-only),
 * plus Capturing and Settable, which the reference (2.2, 3.6) names from
 * a later revision of that enum.  Byte order. */
static const char *const affordances[] = {
	"Attenuable", "Bendable", "Binnable", "Bufferable", "Capturable",
	"Capturing", "Compressible", "Consumable", "Coolable", "Following",
	"Gateable", "Homeable", "Identifiable", "Imageable", "Indexable",
	"Leading", "Limitable", "Marking", "PIDControllable", "Posable",
	"Pulsing", "Recording", "Reportable", "Rotatable", "Settable",
	"Shutterable", "Streamable", "Synchronizable", "Translatable",
	"Triggerable", NULL,
};

/* ---- helpers ---------------------------------------------------------- */

/* True when name can serve as the slug (checked quietly). */
static bool slug_like(const char *name)
{
	struct cora_uuid u;

	if (cora_text_slug(name, "family") != 0) {
		cora_error_clear();
		return false;
	}
	return cora_uuid_parse(&u, name) != 0;
}

/* ---- the id ------------------------------------------------------------------ */

static int family_id(const json_t *cmd, char out[37])
{
	char *name = NULL, *low = NULL;
	int rc;

	if ((rc = cora_text_bounded(&name, cora_json_str(cmd, "name"), 1, 200,
				    "family name")) ||
	    (rc = cora_nfc_lower(&low, name)))
		goto out;
	cora_uuid_v5_str(out, CORA_NS_FAMILY, low, strlen(low));
out:
	free(name);
	free(low);
	return rc;
}

/* ---- deciders ---------------------------------------------------------------- */

static int decide_define(const json_t *state, const json_t *cmd,
			 struct cora_ctx *ctx, struct cora_emit *out)
{
	const json_t *list, *v;
	const char *slug = NULL;
	char *name = NULL;
	json_t *set = json_array(), *p;
	size_t i;
	int rc;

	if (state) {
		rc = cora_error_set(CORA_EEXISTS, "family '%s' already exists",
				    cora_label_named(state));
		goto out;
	}
	if (!set) {
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto out;
	}
	rc = cora_text_bounded(&name, cora_json_str(cmd, "name"), 1, 200,
			       "family name");
	if (rc)
		goto out;
	list = json_object_get(cmd, "affordances");
	if (list && !json_is_null(list) && !json_is_array(list)) {
		rc = cora_error_set(CORA_EINVALID, "affordances must be a list");
		goto out;
	}
	json_array_foreach(list, i, v) {
		if (!cora_one_of(json_string_value(v), affordances)) {
			rc = cora_error_set(CORA_EINVALID,
					    "unknown affordance '%s'",
					    json_is_string(v) ?
					    json_string_value(v) : "?");
			goto out;
		}
		cora_json_set_add(set, json_string_value(v));
	}

	if ((rc = cora_arg_opt_str(&slug, cmd, "slug", "family slug")))
		goto out;
	if (!slug && slug_like(name))
		slug = name;
	if (slug && (rc = cora_check_slug(ctx, "Family", "family", slug)))
		goto out;

	p = cora_payload_new(ctx, "family_id");
	if (p) {
		json_object_set_new(p, "name", json_string(name));
		json_object_set(p, "affordances", set);
		if (slug)
			json_object_set_new(p, "slug", json_string(slug));
	}
	rc = cora_emit(out, "FamilyDefined", p);
out:
	free(name);
	json_decref(set);
	return rc;
}

static int decide_deprecate(const json_t *state, const json_t *cmd,
			    struct cora_ctx *ctx, struct cora_emit *out)
{
	return cora_decide_deprecate(state, cmd, ctx, out, "family", "family_id",
				     "FamilyDeprecated");
}

/* ---- evolvers ------------------------------------------------------------------ */

static int evolve_defined(json_t **state, const char *type, const json_t *p)
{
	const json_t *v;
	json_t *s = json_object();

	if (!s)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	json_object_set_new(s, "id", cora_json_copy_of(p, "family_id"));
	if ((v = json_object_get(p, "slug")))
		json_object_set_new(s, "slug", json_deep_copy(v));
	json_object_set_new(s, "name", cora_json_copy_of(p, "name"));
	v = json_object_get(p, "affordances");
	json_object_set_new(s, "affordances",
			    v ? json_deep_copy(v) : json_array());
	json_object_set_new(s, "status", json_string("Defined"));
	*state = s;
	return 0;
}

static int evolve_deprecated(json_t **state, const char *type,
			     const json_t *p)
{
	json_object_set_new(*state, "status", json_string("Deprecated"));
	return 0;
}

/* ---- tables ----------------------------------------------------------------------- */

static const char *const k_defined[] = {
	"family_id", "name", "affordances", "occurred_at", NULL,
};
static const char *const o_defined[] = { "slug", NULL };
static const char *const k_deprecated[] = {
	"family_id", "occurred_at", NULL,
};
static const char *const o_deprecated[] = { "reason", NULL };

const struct cora_event_def cora_family_events[] = {
	{ .type = "FamilyDefined", .stream_type = "Family", .keys = k_defined,
	  .optional_keys = o_defined, .genesis = true,
	  .evolve = evolve_defined },
	{ .type = "FamilyDeprecated", .stream_type = "Family",
	  .keys = k_deprecated, .optional_keys = o_deprecated,
	  .evolve = evolve_deprecated },
	{ .type = NULL },
};

const struct cora_command_def cora_family_commands[] = {
	{ .name = "family.define", .stream_type = "Family", .genesis = true,
	  .decide = decide_define, .genesis_id = family_id },
	{ .name = "family.deprecate", .stream_type = "Family",
	  .decide = decide_deprecate },
	{ .name = NULL },
};
