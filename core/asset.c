/*
 * asset.c: the Asset aggregate (reference section 2), one physical
 * instrument or part of one, placed in a single-parent tree whose root
 * carries the facility code.
 *
 * Lifecycle (reference 2.3), with the command behind each arrow:
 *
 *     asset.register
 *           |
 *           v      asset.activate          asset.enter_maintenance
 *     Commissioned ---------------> Active ----------------------> Maintenance
 *                                          <----------------------
 *                                           asset.exit_maintenance
 *
 *     Commissioned, Active or Maintenance --asset.decommission--> Decommissioned
 *                                                                 (terminal)
 *
 * Condition (Nominal, Degraded, Faulted) is a second axis, independent of
 * the lifecycle: asset.degrade, asset.fault and asset.restore move it from
 * any condition in any lifecycle, Decommissioned included, and emit
 * nothing when the asset is already there.  That is the one exception to
 * "strict, not idempotent" (reference 1.1).
 *
 * Invariants the deciders keep:
 *
 *  1. parent_id XOR facility_code: a root has no parent and has a
 *     facility code; every other asset has a parent and no facility code.
 *     A root never moves.
 *  2. The slug is unique among assets and is not a UUID, so a reference
 *     (id or slug) names one asset.
 *  3. When model_id is set, family_ids is a subset of the Model's
 *     declared_family_ids (checked at register and add_family).
 *  4. family_ids is a sorted set; owners are unique by name and sorted by
 *     name; alternate_identifiers are unique by (kind, value) and sorted.
 *  5. persistent_id is set once, and never on a Decommissioned asset.
 *  6. A Decommissioned asset changes only its condition.
 *  7. Moving an asset never makes it its own ancestor, as far as the
 *     catalog's parent chain can be followed (at most MAX_DEPTH steps).
 *
 * Deciders read other aggregates only through ctx->lookup; evolvers apply
 * an event's own fields (cora_evolve() stamps created_at / updated_at).
 */
#include "core/aggregate.h"

#include "core/cmdarg.h"
#include "core/error.h"
#include "core/text.h"
#include "core/uuid.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 1000

static const char *const tiers[] = { "Unit", "Component", "Device", NULL };
static const char *const alternate_kinds[] = {
	"SerialNumber", "InventoryNumber", "Other", NULL,
};
static const char *const drawing_systems[] = { "ICMS", "EDMS", "DOI", NULL };
static const char *const pid_schemes[] = { "DOI", "Handle", NULL };

/* ---- helpers --------------------------------------------------------- */

static json_t *or_null(json_t *v)
{
	return v ? v : json_null();
}

/* Bounded text when the member is there, NULL when it is not. */
static int opt_bounded(char **out, const json_t *obj, const char *key,
		       size_t max, const char *what)
{
	const char *s;
	int rc;

	*out = NULL;
	rc = cora_arg_opt_str(&s, obj, key, what);
	if (rc || !s)
		return rc;
	return cora_text_bounded(out, s, 1, max, what);
}

static bool decommissioned(const json_t *state)
{
	const char *l = cora_json_str(state, "lifecycle");

	return l && strcmp(l, "Decommissioned") == 0;
}

/* Refuses changes to a Decommissioned asset (invariant 6). */
static int need_live(const json_t *state, const char *doing)
{
	if (decommissioned(state))
		return cora_error_set(CORA_ESTATE,
				      "cannot %s asset '%s': it is Decommissioned",
				      doing, cora_label_named(state));
	return 0;
}

/* Invariant 3 for one family. */
static int check_declared(const json_t *model, const json_t *family)
{
	const char *fid = cora_json_str(family, "id");

	if (fid && cora_json_array_has(json_object_get(model,
						       "declared_family_ids"), fid))
		return 0;
	return cora_error_set(CORA_EINVALID,
			      "family '%s' is not declared by model '%s'",
			      cora_label_named(family),
			      cora_label_named(model));
}

/* An owner object of the command, validated into {name, contact,
 * identifier, identifier_type} with null for what is missing. */
static const struct owner_field {
	const char *key;
	size_t max;
	const char *what;
} owner_fields[] = {
	{ "name", 255, "owner name" },
	{ "contact", 255, "owner contact" },
	{ "identifier", 255, "owner identifier" },
	{ "identifier_type", 64, "owner identifier type" },
};

static int parse_owner(json_t **out, const json_t *in)
{
	json_t *o;
	char *v;
	size_t i;
	int rc;

	*out = NULL;
	if (!json_is_object(in))
		return cora_error_set(CORA_EINVALID,
				      "an owner must be an object with a name");
	o = json_object();
	if (!o)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	for (i = 0; i < sizeof(owner_fields) / sizeof(owner_fields[0]); i++) {
		const struct owner_field *f = &owner_fields[i];
		rc = opt_bounded(&v, in, f->key, f->max, f->what);
		if (rc == 0 && !v && i == 0)
			rc = cora_error_set(CORA_EINVALID, "owner name is missing");
		if (rc) {
			json_decref(o);
			return rc;
		}
		json_object_set_new(o, f->key, v ? json_string(v) : json_null());
		free(v);
	}
	if (json_is_null(json_object_get(o, "identifier")) !=
	    json_is_null(json_object_get(o, "identifier_type"))) {
		rc = cora_error_set(CORA_EINVALID,
			"owner '%s': identifier and identifier_type go "
			"together, give both or neither",
			cora_json_str(o, "name"));
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* An alternate identifier {kind, value}, validated. */
static int parse_alternate(json_t **out, const json_t *in)
{
	const char *kind, *raw;
	char *value;
	int rc;

	*out = NULL;
	rc = cora_arg_opt_str(&kind, in, "kind", "alternate identifier kind");
	if (rc)
		return rc;
	if (!cora_one_of(kind, alternate_kinds))
		return cora_error_set(CORA_EINVALID,
			"alternate identifier kind '%s' must be SerialNumber, "
			"InventoryNumber or Other", kind ? kind : "");
	rc = cora_arg_opt_str(&raw, in, "value", "alternate identifier value");
	if (rc)
		return rc;
	rc = cora_text_bounded(&value, raw, 1, 200,
			       "alternate identifier value");
	if (rc)
		return rc;
	*out = json_pack("{s:s, s:s}", "kind", kind, "value", value);
	free(value);
	return *out ? 0 : cora_error_set(CORA_ENOMEM, "out of memory");
}

static ssize_t find_alternate(const json_t *array, const json_t *alt)
{
	const char *kind = cora_json_str(alt, "kind");
	const char *value = cora_json_str(alt, "value");
	size_t i;
	json_t *v;

	json_array_foreach(array, i, v) {
		const char *k = cora_json_str(v, "kind");
		const char *x = cora_json_str(v, "value");
		if (k && x && strcmp(k, kind) == 0 && strcmp(x, value) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/* A drawing {system, number, revision?} into {system, number, revision}. */
static int parse_drawing(json_t **out, const json_t *in)
{
	const char *system;
	char *number = NULL, *revision = NULL;
	int rc;

	*out = NULL;
	if (!json_is_object(in))
		return cora_error_set(CORA_EINVALID,
				      "drawing must be an object with a system "
				      "and a number");
	rc = cora_arg_opt_str(&system, in, "system", "drawing system");
	if (rc)
		return rc;
	if (!cora_one_of(system, drawing_systems))
		return cora_error_set(CORA_EINVALID,
				      "drawing system '%s' must be ICMS, EDMS "
				      "or DOI", system ? system : "");
	rc = opt_bounded(&number, in, "number", 200, "drawing number");
	if (rc == 0 && !number)
		rc = cora_error_set(CORA_EINVALID, "drawing number is missing");
	if (rc == 0)
		rc = opt_bounded(&revision, in, "revision", 100,
				 "drawing revision");
	if (rc == 0) {
		*out = json_pack("{s:s, s:s, s:s?}", "system", system,
				 "number", number, "revision", revision);
		if (!*out)
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
	}
	free(number);
	free(revision);
	return rc;
}

/* An optional list member: absent or null gives NULL. */
static int opt_array(const json_t *obj, const char *key, const json_t **out)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return cora_error_set(CORA_EINVALID, "%s must be a list", key);
	*out = v;
	return 0;
}

/* ---- register --------------------------------------------------------- */

/* The seed sets of asset.register, validated and sorted. */
struct seeds {
	json_t *family_ids;  /* strings */
	json_t *owners;
	json_t *alternates;
	json_t *drawing;     /* or NULL */
};

static void seeds_release(struct seeds *s)
{
	json_decref(s->family_ids);
	json_decref(s->owners);
	json_decref(s->alternates);
	json_decref(s->drawing);
}

static int seed_families(struct seeds *s, const json_t *cmd,
			 struct cora_ctx *ctx, const json_t *model)
{
	const json_t *list, *fam, *v;
	size_t i;
	int rc;

	rc = opt_array(cmd, "families", &list);
	json_array_foreach(list, i, v) {
		if (rc)
			break;
		if (!json_is_string(v))
			return cora_error_set(CORA_EINVALID,
					      "families must be a list of "
					      "family names or ids");
		rc = cora_resolve(ctx, "Family", "family", json_string_value(v),
			     &fam);
		if (rc == 0 && model)
			rc = check_declared(model, fam);
		/* A family named twice (by slug and by id) is one family. */
		if (rc == 0)
			cora_json_set_add(s->family_ids,
					  cora_json_str(fam, "id"));
	}
	return rc;
}

static int seed_owners(struct seeds *s, const json_t *cmd)
{
	const json_t *list, *v;
	json_t *o;
	size_t i;
	int rc;

	rc = opt_array(cmd, "owners", &list);
	json_array_foreach(list, i, v) {
		if (rc)
			break;
		rc = parse_owner(&o, v);
		if (rc)
			break;
		if (cora_json_find_object(s->owners, "name",
					  cora_json_str(o, "name")) >= 0) {
			rc = cora_error_set(CORA_EEXISTS,
					    "owner '%s' is listed twice",
					    cora_json_str(o, "name"));
			json_decref(o);
			break;
		}
		json_array_append_new(s->owners, o);
	}
	cora_json_sort_objects(s->owners, "name", NULL);
	return rc;
}

static int seed_alternates(struct seeds *s, const json_t *cmd)
{
	const json_t *list, *v;
	json_t *a;
	size_t i;
	int rc;

	rc = opt_array(cmd, "alternate_identifiers", &list);
	json_array_foreach(list, i, v) {
		if (rc)
			break;
		rc = parse_alternate(&a, v);
		if (rc)
			break;
		/* A set: the same (kind, value) twice is kept once. */
		if (find_alternate(s->alternates, a) >= 0)
			json_decref(a);
		else
			json_array_append_new(s->alternates, a);
	}
	cora_json_sort_objects(s->alternates, "kind", "value");
	return rc;
}

static int decide_register(const json_t *state, const json_t *cmd,
			   struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *slug, *tier, *parent_ref, *fc_in, *model_ref;
	const json_t *parent = NULL, *model = NULL, *v;
	struct seeds s = { NULL, NULL, NULL, NULL };
	char *name = NULL, *fc = NULL;
	json_t *p;
	size_t i;
	int rc;

	if (state)
		return cora_error_set(CORA_EEXISTS, "asset '%s' already exists",
				      cora_label_named(state));
	s.family_ids = json_array();
	s.owners = json_array();
	s.alternates = json_array();
	if (!s.family_ids || !s.owners || !s.alternates) {
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = cora_arg_opt_str(&slug, cmd, "slug", "asset slug")) ||
	    (rc = cora_check_slug(ctx, "Asset", "asset", slug)))
		goto out;
	/* the name defaults to the slug, as for datasets */
	rc = cora_text_bounded(&name, cora_json_str(cmd, "name") ?
			       cora_json_str(cmd, "name") : slug, 1, 200,
			       "asset name");
	if (rc)
		goto out;
	if ((rc = cora_arg_opt_str(&tier, cmd, "tier", "asset tier")))
		goto out;
	if (!cora_one_of(tier, tiers)) {
		rc = tier ? cora_error_set(CORA_EINVALID,
				"asset tier '%s' must be Unit, Component or "
				"Device", tier) :
			cora_error_set(CORA_EINVALID, "asset tier is missing");
		goto out;
	}

	/* Invariant 1. */
	if ((rc = cora_arg_opt_str(&parent_ref, cmd, "parent", "parent")) ||
	    (rc = cora_arg_opt_str(&fc_in, cmd, "facility_code",
				   "facility code")))
		goto out;
	if (parent_ref && fc_in) {
		rc = cora_error_set(CORA_EINVALID,
			"asset '%s' cannot have both a parent and a facility "
			"code: only a root asset carries a facility code", slug);
		goto out;
	}
	if (!parent_ref && !fc_in) {
		rc = cora_error_set(CORA_EINVALID,
			"asset '%s' needs a parent, or a facility code if it "
			"is a root asset", slug);
		goto out;
	}
	if (parent_ref)
		rc = cora_resolve(ctx, "Asset", "parent asset", parent_ref,
				  &parent);
	else
		rc = cora_text_facility_code(&fc, fc_in);
	if (rc)
		goto out;

	if ((rc = cora_arg_opt_str(&model_ref, cmd, "model", "model")))
		goto out;
	if (model_ref && (rc = cora_resolve(ctx, "Model", "model", model_ref,
				       &model)))
		goto out;
	if ((rc = seed_families(&s, cmd, ctx, model)) ||
	    (rc = seed_owners(&s, cmd)) ||
	    (rc = seed_alternates(&s, cmd)))
		goto out;
	v = json_object_get(cmd, "drawing");
	if (v && !json_is_null(v) && (rc = parse_drawing(&s.drawing, v)))
		goto out;

	/* Reference 2.4: the optional keys are omitted when empty. */
	p = cora_payload_new(ctx, "asset_id");
	if (p) {
		json_object_set_new(p, "slug", json_string(slug));
		json_object_set_new(p, "name", json_string(name));
		json_object_set_new(p, "tier", json_string(tier));
		json_object_set_new(p, "parent_id", parent ?
				    json_string(cora_json_str(parent, "id")) :
				    json_null());
		json_object_set_new(p, "commissioned_by",
				    or_null(json_string(ctx->principal)));
		if (fc)
			json_object_set_new(p, "facility_code", json_string(fc));
		if (model)
			json_object_set_new(p, "model_id",
				json_string(cora_json_str(model, "id")));
		if (s.drawing)
			json_object_set(p, "drawing", s.drawing);
		if (json_array_size(s.owners))
			json_object_set(p, "owners", s.owners);
		if (json_array_size(s.alternates))
			json_object_set(p, "alternate_identifiers",
					s.alternates);
	}
	rc = cora_emit(out, "AssetRegistered", p);
	json_array_foreach(s.family_ids, i, v) {
		if (rc)
			break;
		p = cora_payload_new(ctx, "asset_id");
		if (p)
			json_object_set_new(p, "family_id",
					    json_string(json_string_value(v)));
		rc = cora_emit(out, "AssetFamilyAdded", p);
	}
out:
	seeds_release(&s);
	free(name);
	free(fc);
	return rc;
}

/* ---- lifecycle ------------------------------------------------------------ */

enum { T_ACTIVATE, T_ENTER, T_EXIT, T_DECOMMISSION };

static const struct transition {
	const char *verb;        /* "cannot <verb> asset 'x'" */
	const char *event;
	const char *from[4];     /* the lifecycles it leaves, NULL-ended */
	const char *by_key;      /* attribution key, or NULL */
	bool detached;           /* refused while attached to a fixture */
} transitions[] = {
	[T_ACTIVATE] = { "activate", "AssetActivated",
			 { "Commissioned", NULL }, NULL, false },
	[T_ENTER] = { "start maintenance on", "AssetMaintenanceEntered",
		      { "Active", NULL }, NULL, false },
	[T_EXIT] = { "end maintenance on", "AssetMaintenanceExited",
		     { "Maintenance", NULL }, NULL, false },
	[T_DECOMMISSION] = { "decommission", "AssetDecommissioned",
			     { "Commissioned", "Active", "Maintenance", NULL },
			     "decommissioned_by", true },
};

static int transition(const struct transition *t, const json_t *state,
		      struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *lifecycle, *fixture;
	json_t *p;
	int rc;

	if ((rc = cora_need_state(state, ctx, "asset")))
		return rc;
	lifecycle = cora_json_str(state, "lifecycle");
	if (!cora_one_of(lifecycle, t->from))
		return cora_error_set(CORA_ESTATE,
				      "cannot %s asset '%s': it is %s",
				      t->verb, cora_label_named(state),
				      lifecycle ? lifecycle : "unknown");
	/* Teardown order (reference 2.3): detach, then decommission. */
	fixture = cora_json_str(state, "fixture_id");
	if (t->detached && fixture)
		return cora_error_set(CORA_ESTATE,
				      "cannot %s asset '%s': it is attached to "
				      "fixture '%s', detach it first", t->verb,
				      cora_label_named(state), fixture);
	p = cora_payload_new(ctx, "asset_id");
	if (p && t->by_key)
		json_object_set_new(p, t->by_key,
				    or_null(json_string(ctx->principal)));
	return cora_emit(out, t->event, p);
}

static int decide_activate(const json_t *state, const json_t *cmd,
			   struct cora_ctx *ctx, struct cora_emit *out)
{
	return transition(&transitions[T_ACTIVATE], state, ctx, out);
}

static int decide_enter_maintenance(const json_t *state, const json_t *cmd,
				    struct cora_ctx *ctx,
				    struct cora_emit *out)
{
	return transition(&transitions[T_ENTER], state, ctx, out);
}

static int decide_exit_maintenance(const json_t *state, const json_t *cmd,
				   struct cora_ctx *ctx, struct cora_emit *out)
{
	return transition(&transitions[T_EXIT], state, ctx, out);
}

static int decide_decommission(const json_t *state, const json_t *cmd,
			       struct cora_ctx *ctx, struct cora_emit *out)
{
	return transition(&transitions[T_DECOMMISSION], state, ctx, out);
}

/* ---- condition ------------------------------------------------------------ */

enum { C_DEGRADE, C_FAULT, C_RESTORE };

static const struct condition {
	const char *target;
	const char *event;
} conditions[] = {
	[C_DEGRADE] = { "Degraded", "AssetDegraded" },
	[C_FAULT] = { "Faulted", "AssetFaulted" },
	[C_RESTORE] = { "Nominal", "AssetRestored" },
};

static int condition(const struct condition *c, const json_t *state,
		     const json_t *cmd, struct cora_ctx *ctx,
		     struct cora_emit *out)
{
	const char *now;
	char *reason;
	json_t *p;
	int rc;

	if ((rc = cora_need_state(state, ctx, "asset")))
		return rc;
	/* The reason is checked even when nothing happens: a bad command
	 * stays bad whatever the asset's condition. */
	rc = cora_text_reason(&reason, cora_json_str(cmd, "reason"));
	if (rc)
		return rc;
	now = cora_json_str(state, "condition");
	if (now && strcmp(now, c->target) == 0) {
		free(reason);
		return 0;
	}
	p = cora_payload_new(ctx, "asset_id");
	if (p)
		json_object_set_new(p, "reason", json_string(reason));
	free(reason);
	return cora_emit(out, c->event, p);
}

static int decide_degrade(const json_t *state, const json_t *cmd,
			  struct cora_ctx *ctx, struct cora_emit *out)
{
	return condition(&conditions[C_DEGRADE], state, cmd, ctx, out);
}

static int decide_fault(const json_t *state, const json_t *cmd,
			struct cora_ctx *ctx, struct cora_emit *out)
{
	return condition(&conditions[C_FAULT], state, cmd, ctx, out);
}

static int decide_restore(const json_t *state, const json_t *cmd,
			  struct cora_ctx *ctx, struct cora_emit *out)
{
	return condition(&conditions[C_RESTORE], state, cmd, ctx, out);
}

/* ---- relocate ------------------------------------------------------------ */

/* Invariant 7: refuses to put `state` under `parent` when it is one of
 * parent's ancestors.  The walk stops at a root, or at an ancestor the
 * catalog does not know (parents are not checked on replay). */
static int check_cycle(struct cora_ctx *ctx, const json_t *state,
		       const json_t *parent)
{
	const char *self = cora_json_str(state, "id");
	const json_t *cur = parent;
	const char *up;
	int depth, rc;

	for (depth = 0; depth < MAX_DEPTH; depth++) {
		up = cora_json_str(cur, "parent_id");
		if (!up)
			return 0;
		if (strcmp(up, self) == 0)
			return cora_error_set(CORA_EINVALID,
				"cannot move asset '%s' under '%s': '%s' is "
				"inside '%s'", cora_label_named(state),
				cora_label_named(parent),
				cora_label_named(parent),
				cora_label_named(state));
		rc = ctx->lookup(ctx, "Asset", up, &cur);
		if (rc)
			return rc == CORA_ENOTFOUND ? 0 : rc;
	}
	return cora_error_set(CORA_EINVALID,
			      "cannot move asset '%s' under '%s': its chain "
			      "of parents is longer than %d",
			      cora_label_named(state),
			      cora_label_named(parent), MAX_DEPTH);
}

static int decide_relocate(const json_t *state, const json_t *cmd,
			   struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *ref, *from, *self, *slug, *to;
	const json_t *parent;
	char *reason = NULL;
	json_t *p;
	int rc;

	if ((rc = cora_need_state(state, ctx, "asset")))
		return rc;
	from = cora_json_str(state, "parent_id");
	self = cora_json_str(state, "id");
	slug = cora_json_str(state, "slug");
	if (!from)
		return cora_error_set(CORA_ESTATE,
				      "cannot move asset '%s': it is a root "
				      "asset", cora_label_named(state));
	if ((rc = need_live(state, "move")))
		return rc;
	if ((rc = cora_arg_opt_str(&ref, cmd, "parent", "parent")))
		return rc;
	if (ref && ((self && strcmp(ref, self) == 0) ||
		    (slug && strcmp(ref, slug) == 0)))
		return cora_error_set(CORA_EINVALID,
				      "cannot move asset '%s' into itself",
				      cora_label_named(state));
	if ((rc = cora_resolve(ctx, "Asset", "parent asset", ref, &parent)))
		return rc;
	to = cora_json_str(parent, "id");
	if (!to || (self && strcmp(to, self) == 0))
		return cora_error_set(CORA_EINVALID,
				      "cannot move asset '%s' into itself",
				      cora_label_named(state));
	if (strcmp(to, from) == 0)
		return cora_error_set(CORA_ESTATE,
				      "cannot move asset '%s': it is already "
				      "in '%s'", cora_label_named(state),
				      cora_label_named(parent));
	if ((rc = check_cycle(ctx, state, parent)))
		return rc;
	rc = cora_text_reason(&reason, cora_json_str(cmd, "reason"));
	if (rc)
		return rc;
	p = cora_payload_new(ctx, "asset_id");
	if (p) {
		json_object_set_new(p, "from_parent_id", json_string(from));
		json_object_set_new(p, "to_parent_id", json_string(to));
		json_object_set_new(p, "reason", json_string(reason));
	}
	free(reason);
	return cora_emit(out, "AssetRelocated", p);
}

/* ---- families ------------------------------------------------------------- */

static int decide_add_family(const json_t *state, const json_t *cmd,
			     struct cora_ctx *ctx, struct cora_emit *out)
{
	const json_t *fam, *model;
	const char *ref, *fid, *model_id;
	json_t *p;
	int rc;

	if ((rc = cora_need_state(state, ctx, "asset")) ||
	    (rc = need_live(state, "add a family to")) ||
	    (rc = cora_arg_opt_str(&ref, cmd, "family", "family")) ||
	    (rc = cora_resolve(ctx, "Family", "family", ref, &fam)))
		return rc;
	fid = cora_json_str(fam, "id");
	if (cora_json_array_has(json_object_get(state, "family_ids"), fid))
		return cora_error_set(CORA_EEXISTS,
				      "asset '%s' already has family '%s'",
				      cora_label_named(state),
				      cora_label_named(fam));
	model_id = cora_json_str(state, "model_id");
	if (model_id) {
		if ((rc = cora_resolve(ctx, "Model", "model", model_id,
				       &model)) ||
		    (rc = check_declared(model, fam)))
			return rc;
	}
	p = cora_payload_new(ctx, "asset_id");
	if (p)
		json_object_set_new(p, "family_id", json_string(fid));
	return cora_emit(out, "AssetFamilyAdded", p);
}

static int decide_remove_family(const json_t *state, const json_t *cmd,
				struct cora_ctx *ctx, struct cora_emit *out)
{
	const json_t *fam = NULL;
	const char *ref, *fid;
	json_t *p;
	int rc;

	if ((rc = cora_need_state(state, ctx, "asset")) ||
	    (rc = need_live(state, "remove a family from")) ||
	    (rc = cora_arg_opt_str(&ref, cmd, "family", "family")))
		return rc;
	if (!ref || !*ref)
		return cora_error_set(CORA_EINVALID, "family is missing");
	/* An id in the set needs no lookup: removal must work even if the
	 * family's own stream is out of reach. */
	if (cora_json_array_has(json_object_get(state, "family_ids"), ref))
		fid = ref;
	else if ((rc = cora_resolve(ctx, "Family", "family", ref, &fam)))
		return rc;
	else
		fid = cora_json_str(fam, "id");
	if (!cora_json_array_has(json_object_get(state, "family_ids"), fid))
		return cora_error_set(CORA_ENOTFOUND,
				      "asset '%s' does not have family '%s'",
				      cora_label_named(state), ref);
	p = cora_payload_new(ctx, "asset_id");
	if (p)
		json_object_set_new(p, "family_id", json_string(fid));
	return cora_emit(out, "AssetFamilyRemoved", p);
}

/* ---- owners ---------------------------------------------------------------- */

static int decide_add_owner(const json_t *state, const json_t *cmd,
			    struct cora_ctx *ctx, struct cora_emit *out)
{
	json_t *owner, *p;
	int rc;

	if ((rc = cora_need_state(state, ctx, "asset")) ||
	    (rc = need_live(state, "add an owner to")) ||
	    (rc = parse_owner(&owner, json_object_get(cmd, "owner"))))
		return rc;
	if (cora_json_find_object(json_object_get(state, "owners"), "name",
				  cora_json_str(owner, "name")) >= 0) {
		rc = cora_error_set(CORA_EEXISTS,
				    "asset '%s' already has owner '%s'",
				    cora_label_named(state),
				    cora_json_str(owner, "name"));
		json_decref(owner);
		return rc;
	}
	p = cora_payload_new(ctx, "asset_id");
	if (p)
		json_object_set(p, "owner", owner);
	json_decref(owner);
	return cora_emit(out, "AssetOwnerAdded", p);
}

static int decide_remove_owner(const json_t *state, const json_t *cmd,
			       struct cora_ctx *ctx, struct cora_emit *out)
{
	char *name;
	json_t *p;
	int rc;

	if ((rc = cora_need_state(state, ctx, "asset")) ||
	    (rc = need_live(state, "remove an owner from")) ||
	    (rc = cora_text_bounded(&name, cora_json_str(cmd, "owner_name"),
				    1, 255, "owner name")))
		return rc;
	if (cora_json_find_object(json_object_get(state, "owners"), "name",
				  name) < 0) {
		rc = cora_error_set(CORA_ENOTFOUND,
				    "asset '%s' has no owner '%s'",
				    cora_label_named(state), name);
		free(name);
		return rc;
	}
	p = cora_payload_new(ctx, "asset_id");
	if (p)
		json_object_set_new(p, "owner_name", json_string(name));
	free(name);
	return cora_emit(out, "AssetOwnerRemoved", p);
}

/* ---- alternate identifiers --------------------------------------------------- */

static int alternate(bool add, const json_t *state, const json_t *cmd,
		     struct cora_ctx *ctx, struct cora_emit *out)
{
	json_t *alt, *p;
	bool has;
	int rc;

	if ((rc = cora_need_state(state, ctx, "asset")) ||
	    (rc = need_live(state, add ? "add an alternate identifier to" :
			    "remove an alternate identifier from")) ||
	    (rc = parse_alternate(&alt, cmd)))
		return rc;
	has = find_alternate(json_object_get(state, "alternate_identifiers"),
			     alt) >= 0;
	if (add == has) {
		rc = cora_error_set(add ? CORA_EEXISTS : CORA_ENOTFOUND,
				    add ? "asset '%s' already has %s '%s'" :
				    "asset '%s' has no %s '%s'",
				    cora_label_named(state),
				    cora_json_str(alt, "kind"),
				    cora_json_str(alt, "value"));
		json_decref(alt);
		return rc;
	}
	p = cora_payload_new(ctx, "asset_id");
	if (p)
		json_object_set(p, "alternate_identifier", alt);
	json_decref(alt);
	return cora_emit(out, add ? "AssetAlternateIdentifierAdded" :
			"AssetAlternateIdentifierRemoved", p);
}

static int decide_add_alternate(const json_t *state, const json_t *cmd,
				struct cora_ctx *ctx, struct cora_emit *out)
{
	return alternate(true, state, cmd, ctx, out);
}

static int decide_remove_alternate(const json_t *state, const json_t *cmd,
				   struct cora_ctx *ctx, struct cora_emit *out)
{
	return alternate(false, state, cmd, ctx, out);
}

/* ---- persistent identifier -------------------------------------------------- */

static int decide_assign_pid(const json_t *state, const json_t *cmd,
			     struct cora_ctx *ctx, struct cora_emit *out)
{
	const json_t *pid;
	const char *scheme;
	char *value;
	json_t *p;
	int rc;

	if ((rc = cora_need_state(state, ctx, "asset")) ||
	    (rc = need_live(state, "assign a persistent id to")))
		return rc;
	pid = json_object_get(state, "persistent_id");
	if (json_is_object(pid))
		return cora_error_set(CORA_EEXISTS,
				      "asset '%s' already has persistent id "
				      "%s '%s'", cora_label_named(state),
				      cora_json_str(pid, "scheme"),
				      cora_json_str(pid, "value"));
	if ((rc = cora_arg_opt_str(&scheme, cmd, "scheme",
				   "persistent id scheme")))
		return rc;
	if (!scheme)
		scheme = "DOI"; /* the usual PIDINST identifier */
	if (!cora_one_of(scheme, pid_schemes))
		return cora_error_set(CORA_EINVALID,
				      "persistent id scheme '%s' must be DOI "
				      "or Handle", scheme ? scheme : "");
	rc = cora_text_bounded(&value, cora_json_str(cmd, "value"), 1, 200,
			       "persistent id");
	if (rc)
		return rc;
	if (strcmp(scheme, "DOI") == 0 && (rc = cora_text_doi(value))) {
		free(value);
		return rc;
	}
	p = cora_payload_new(ctx, "asset_id");
	if (p) {
		json_object_set_new(p, "persistent_id_scheme",
				    json_string(scheme));
		json_object_set_new(p, "persistent_id_value",
				    json_string(value));
	}
	free(value);
	return cora_emit(out, "AssetPersistentIdAssigned", p);
}

/* ---- evolvers ----------------------------------------------------------------- */

static int evolve_registered(json_t **state, const char *type,
			     const json_t *p)
{
	const json_t *v;
	json_t *s = json_object();

	if (!s)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	json_object_set_new(s, "id", cora_json_copy_of(p, "asset_id"));
	if ((v = json_object_get(p, "slug")))
		json_object_set_new(s, "slug", json_deep_copy(v));
	json_object_set_new(s, "name", cora_json_copy_of(p, "name"));
	json_object_set_new(s, "tier", cora_json_copy_of(p, "tier"));
	json_object_set_new(s, "parent_id",
			    cora_json_copy_of(p, "parent_id"));
	json_object_set_new(s, "facility_code",
			    cora_json_copy_of(p, "facility_code"));
	json_object_set_new(s, "lifecycle", json_string("Commissioned"));
	json_object_set_new(s, "condition", json_string("Nominal"));
	json_object_set_new(s, "family_ids", json_array());
	json_object_set_new(s, "model_id",
			    cora_json_copy_of(p, "model_id"));
	v = json_object_get(p, "owners");
	json_object_set_new(s, "owners", v ? json_deep_copy(v) : json_array());
	v = json_object_get(p, "alternate_identifiers");
	json_object_set_new(s, "alternate_identifiers",
			    v ? json_deep_copy(v) : json_array());
	json_object_set_new(s, "drawing",
			    cora_json_copy_of(p, "drawing"));
	json_object_set_new(s, "persistent_id", json_null());
	json_object_set_new(s, "fixture_id", json_null());
	json_object_set_new(s, "commissioned_at",
			    cora_json_copy_of(p, "occurred_at"));
	json_object_set_new(s, "decommissioned_at", json_null());
	*state = s;
	return 0;
}

/* Events that set one member to a constant (and maybe stamp a time). */
static const struct setter {
	const char *event;
	const char *key, *value;
	const char *stamp;       /* member set to occurred_at, or NULL */
} setters[] = {
	{ "AssetActivated", "lifecycle", "Active", NULL },
	{ "AssetMaintenanceEntered", "lifecycle", "Maintenance", NULL },
	{ "AssetMaintenanceExited", "lifecycle", "Active", NULL },
	{ "AssetDecommissioned", "lifecycle", "Decommissioned",
	  "decommissioned_at" },
	{ "AssetDegraded", "condition", "Degraded", NULL },
	{ "AssetFaulted", "condition", "Faulted", NULL },
	{ "AssetRestored", "condition", "Nominal", NULL },
};

static int evolve_set(json_t **state, const char *type, const json_t *p)
{
	size_t i;

	for (i = 0; i < sizeof(setters) / sizeof(setters[0]); i++) {
		const struct setter *s = &setters[i];
		if (strcmp(s->event, type) != 0)
			continue;
		json_object_set_new(*state, s->key, json_string(s->value));
		if (s->stamp)
			json_object_set_new(*state, s->stamp,
				cora_json_copy_of(p, "occurred_at"));
		return 0;
	}
	CORA_BUG("asset event without a setter");
}

static int evolve_relocated(json_t **state, const char *type,
			    const json_t *p)
{
	json_object_set_new(*state, "parent_id",
			    cora_json_copy_of(p, "to_parent_id"));
	return 0;
}

/* Returns the array member key of state, creating it when missing. */
static json_t *member_array(json_t *state, const char *key)
{
	json_t *a = json_object_get(state, key);

	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(state, key, a);
	}
	return a;
}

static int evolve_family(json_t **state, const char *type, const json_t *p)
{
	json_t *ids = member_array(*state, "family_ids"), *v;
	const char *fid = cora_json_str(p, "family_id");
	size_t i;

	if (!fid)
		return cora_error_set(CORA_ECORRUPT, "%s without family_id",
				      type);
	if (strcmp(type, "AssetFamilyAdded") == 0) {
		cora_json_set_add(ids, fid);
		return 0;
	}
	json_array_foreach(ids, i, v) {
		const char *s = json_string_value(v);
		if (s && strcmp(s, fid) == 0) {
			json_array_remove(ids, i);
			break;
		}
	}
	return 0;
}

static int evolve_owner(json_t **state, const char *type, const json_t *p)
{
	json_t *owners = member_array(*state, "owners");
	const json_t *owner = json_object_get(p, "owner");
	const char *name;
	ssize_t at;

	if (strcmp(type, "AssetOwnerAdded") == 0) {
		if (!json_is_object(owner))
			return cora_error_set(CORA_ECORRUPT,
					      "%s without owner", type);
		json_array_append_new(owners, json_deep_copy(owner));
		cora_json_sort_objects(owners, "name", NULL);
		return 0;
	}
	name = cora_json_str(p, "owner_name");
	at = name ? cora_json_find_object(owners, "name", name) : -1;
	if (at >= 0)
		json_array_remove(owners, (size_t)at);
	return 0;
}

static int evolve_alternate(json_t **state, const char *type,
			    const json_t *p)
{
	json_t *alts = member_array(*state, "alternate_identifiers");
	const json_t *alt = json_object_get(p, "alternate_identifier");
	ssize_t at;

	if (!cora_json_str(alt, "kind") || !cora_json_str(alt, "value"))
		return cora_error_set(CORA_ECORRUPT,
				      "%s without alternate_identifier", type);
	if (strcmp(type, "AssetAlternateIdentifierAdded") == 0) {
		json_array_append_new(alts, json_deep_copy(alt));
		cora_json_sort_objects(alts, "kind", "value");
		return 0;
	}
	at = find_alternate(alts, alt);
	if (at >= 0)
		json_array_remove(alts, (size_t)at);
	return 0;
}

static int evolve_pid(json_t **state, const char *type, const json_t *p)
{
	json_object_set_new(*state, "persistent_id",
		json_pack("{s:O?, s:O?}",
			  "scheme", json_object_get(p, "persistent_id_scheme"),
			  "value", json_object_get(p, "persistent_id_value")));
	return 0;
}

/* ---- tables --------------------------------------------------------------------- */

static const char *const none[] = { NULL };
static const char *const k_registered[] = {
	"asset_id", "slug", "name", "tier", "parent_id", "occurred_at",
	"commissioned_by", NULL,
};
static const char *const o_registered[] = {
	"facility_code", "model_id", "drawing", "owners",
	"alternate_identifiers", NULL,
};
static const char *const k_plain[] = { "asset_id", "occurred_at", NULL };
static const char *const k_decommissioned[] = {
	"asset_id", "occurred_at", "decommissioned_by", NULL,
};
static const char *const k_reason[] = {
	"asset_id", "reason", "occurred_at", NULL,
};
static const char *const k_relocated[] = {
	"asset_id", "from_parent_id", "to_parent_id", "reason", "occurred_at",
	NULL,
};
static const char *const k_family[] = {
	"asset_id", "family_id", "occurred_at", NULL,
};
static const char *const k_owner_added[] = {
	"asset_id", "owner", "occurred_at", NULL,
};
static const char *const k_owner_removed[] = {
	"asset_id", "owner_name", "occurred_at", NULL,
};
static const char *const k_alternate[] = {
	"asset_id", "alternate_identifier", "occurred_at", NULL,
};
static const char *const k_pid[] = {
	"asset_id", "persistent_id_scheme", "persistent_id_value",
	"occurred_at", NULL,
};

#define EVENT(t, k, o, g, fn) \
	{ .type = (t), .stream_type = "Asset", .keys = (k), \
	  .optional_keys = (o), .genesis = (g), .evolve = (fn) }

const struct cora_event_def cora_asset_events[] = {
	EVENT("AssetRegistered", k_registered, o_registered, true,
	      evolve_registered),
	EVENT("AssetActivated", k_plain, none, false, evolve_set),
	EVENT("AssetMaintenanceEntered", k_plain, none, false, evolve_set),
	EVENT("AssetMaintenanceExited", k_plain, none, false, evolve_set),
	EVENT("AssetDecommissioned", k_decommissioned, none, false,
	      evolve_set),
	EVENT("AssetDegraded", k_reason, none, false, evolve_set),
	EVENT("AssetFaulted", k_reason, none, false, evolve_set),
	EVENT("AssetRestored", k_reason, none, false, evolve_set),
	EVENT("AssetRelocated", k_relocated, none, false, evolve_relocated),
	EVENT("AssetFamilyAdded", k_family, none, false, evolve_family),
	EVENT("AssetFamilyRemoved", k_family, none, false, evolve_family),
	EVENT("AssetOwnerAdded", k_owner_added, none, false, evolve_owner),
	EVENT("AssetOwnerRemoved", k_owner_removed, none, false,
	      evolve_owner),
	EVENT("AssetAlternateIdentifierAdded", k_alternate, none, false,
	      evolve_alternate),
	EVENT("AssetAlternateIdentifierRemoved", k_alternate, none, false,
	      evolve_alternate),
	EVENT("AssetPersistentIdAssigned", k_pid, none, false, evolve_pid),
	{ .type = NULL },
};

#define COMMAND(n, fn, g) \
	{ .name = (n), .stream_type = "Asset", .genesis = (g), .decide = (fn) }

const struct cora_command_def cora_asset_commands[] = {
	COMMAND("asset.register", decide_register, true),
	COMMAND("asset.activate", decide_activate, false),
	COMMAND("asset.enter_maintenance", decide_enter_maintenance, false),
	COMMAND("asset.exit_maintenance", decide_exit_maintenance, false),
	COMMAND("asset.decommission", decide_decommission, false),
	COMMAND("asset.degrade", decide_degrade, false),
	COMMAND("asset.fault", decide_fault, false),
	COMMAND("asset.restore", decide_restore, false),
	COMMAND("asset.relocate", decide_relocate, false),
	COMMAND("asset.add_family", decide_add_family, false),
	COMMAND("asset.remove_family", decide_remove_family, false),
	COMMAND("asset.add_owner", decide_add_owner, false),
	COMMAND("asset.remove_owner", decide_remove_owner, false),
	COMMAND("asset.add_alternate_id", decide_add_alternate, false),
	COMMAND("asset.remove_alternate_id", decide_remove_alternate, false),
	COMMAND("asset.assign_persistent_id", decide_assign_pid, false),
	{ .name = NULL },
};
