/*
 * cmdarg.c: the helpers every aggregate's deciders and evolvers share
 * (cmdarg.h): command arguments read with one set of messages, payload
 * and state building that reports running out of memory once, and the
 * names and lookups of other aggregates.  Each aggregate used to carry
 * its own copy of these.
 */
#include "core/cmdarg.h"

#include "core/error.h"
#include "core/text.h"
#include "core/uuid.h"

#include <stdlib.h>
#include <string.h>

/* ---- command arguments ------------------------------------------------ */

int cora_arg_str(const char **out, const json_t *cmd, const char *key,
		 const char *what)
{
	const json_t *v = json_object_get(cmd, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return cora_error_set(CORA_EINVALID, "%s is missing", what);
	if (!json_is_string(v))
		return cora_error_set(CORA_EINVALID, "%s must be text", what);
	*out = json_string_value(v);
	return 0;
}

int cora_arg_opt_str(const char **out, const json_t *cmd, const char *key,
		     const char *what)
{
	const json_t *v = json_object_get(cmd, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return cora_error_set(CORA_EINVALID, "%s must be text", what);
	*out = json_string_value(v);
	return 0;
}

int cora_arg_opt_list(const json_t **out, const json_t *cmd,
		      const char *key, size_t max, const char *what)
{
	const json_t *v = json_object_get(cmd, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return cora_error_set(CORA_EINVALID, "%s must be a list",
				      what);
	if (json_array_size(v) > max)
		return cora_error_set(CORA_EINVALID,
				      "%s has %zu entries: at most %zu", what,
				      json_array_size(v), max);
	*out = v;
	return 0;
}

int cora_arg_opt_strings(const json_t **out, const json_t *cmd,
			 const char *key, size_t max, const char *what)
{
	const json_t *e;
	size_t i;
	int rc;

	if ((rc = cora_arg_opt_list(out, cmd, key, max, what)))
		return rc;
	json_array_foreach(*out, i, e)
		if (!json_is_string(e)) {
			*out = NULL;
			return cora_error_set(CORA_EINVALID,
					      "%s must be a list of text",
					      what);
		}
	return 0;
}

/* Dataset's copy printed a non-string entry as "(null)" through %s, Run's
 * as "(not text)"; Dataset only passes lists cora_arg_opt_strings() has
 * checked, so Run's wording is the one that can show. */
int cora_arg_uuid_set(json_t **out, const json_t *list, const char *what)
{
	const json_t *e;
	size_t i;

	*out = json_array();
	if (!*out)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	json_array_foreach(list, i, e) {
		const char *s = json_string_value(e);
		if (!s || !cora_uuid_valid(s))
			return cora_error_set(CORA_EINVALID,
					      "%s '%s' is not a UUID", what,
					      s ? s : "(not text)");
		if (json_array_append_new(*out, json_string(s)))
			return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	cora_json_sort_strings(*out);
	return 0;
}

/* ---- payloads and states ---------------------------------------------- */

json_t *cora_json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *cora_json_copy_of(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return v ? json_deep_copy(v) : json_null();
}

void cora_json_put(json_t *obj, const char *key, json_t *v, bool *bad)
{
	if (json_object_set_new(obj, key, v) != 0)
		*bad = true;
}

int cora_emit_by(struct cora_emit *out, const char *type, json_t *p,
		 const char *by_key, const struct cora_ctx *ctx, bool bad)
{
	cora_json_put(p, by_key, json_string(ctx->principal), &bad);
	if (bad) {
		json_decref(p);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	return cora_emit(out, type, p);
}

int cora_state_from(json_t **out, const char *type, const json_t *p,
		    const char *id_key, const struct cora_field_map *map,
		    size_t n, bool *bad)
{
	size_t i;

	*out = NULL;
	if (!cora_json_str(p, id_key))
		return cora_error_set(CORA_ECORRUPT, "malformed %s payload",
				      type);
	*out = json_object();
	for (i = 0; i < n; i++)
		cora_json_put(*out, map[i].to,
			      cora_json_copy_of(p, map[i].from), bad);
	return 0;
}

int cora_state_done(json_t **state, json_t *s, bool bad)
{
	if (bad) {
		json_decref(s);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	*state = s;
	return 0;
}

/* ---- sets and names --------------------------------------------------- */

bool cora_one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

void cora_json_set_add(json_t *set, const char *s)
{
	if (!s || cora_json_array_has(set, s))
		return;
	json_array_append_new(set, json_string(s));
	cora_json_sort_strings(set);
}

bool cora_json_is(const json_t *state, const char *key, const char *value)
{
	const char *s = cora_json_str(state, key);

	return s && strcmp(s, value) == 0;
}

const char *cora_label(const json_t *state)
{
	const char *s = cora_json_str(state, "slug");

	return s ? s : cora_json_str(state, "id");
}

const char *cora_label_named(const json_t *state)
{
	const char *s = cora_json_str(state, "slug");

	if (!s)
		s = cora_json_str(state, "name");
	if (!s)
		s = cora_json_str(state, "id");
	return s ? s : "?";
}

/* ---- other aggregates ------------------------------------------------- */

int cora_resolve(struct cora_ctx *ctx, const char *stream_type,
		 const char *what, const char *ref, const json_t **st)
{
	int rc;

	if (!ref || !*ref)
		return cora_error_set(CORA_EINVALID, "%s is missing", what);
	rc = ctx->lookup(ctx, stream_type, ref, st);
	if (rc == CORA_ENOTFOUND)
		return cora_error_set(rc, "%s '%s' does not exist", what, ref);
	return rc;
}

/* Asset's copy; Model's and Family's differed only in checking for a
 * missing slug, which their callers never pass. */
int cora_check_slug(struct cora_ctx *ctx, const char *stream_type,
		    const char *what, const char *slug)
{
	struct cora_uuid u;
	const json_t *other;
	int rc;

	if (!slug)
		return cora_error_set(CORA_EINVALID, "%s slug is missing",
				      what);
	rc = cora_text_slug(slug, what);
	if (rc)
		return rc;
	if (cora_uuid_parse(&u, slug) == 0)
		return cora_error_set(CORA_EINVALID,
				      "%s slug '%s' may not be a uuid", what,
				      slug);
	rc = ctx->lookup(ctx, stream_type, slug, &other);
	if (rc == 0)
		return cora_error_set(CORA_EEXISTS, "%s '%s' already exists",
				      what, slug);
	return rc == CORA_ENOTFOUND ? 0 : rc;
}

int cora_need_state(const json_t *state, const struct cora_ctx *ctx,
		    const char *noun)
{
	if (!state)
		return cora_error_set(CORA_ENOTFOUND, "%s '%s' does not exist",
				      noun,
				      ctx->stream_id ? ctx->stream_id : "?");
	return 0;
}

int cora_decide_deprecate(const json_t *state, const json_t *cmd,
			  struct cora_ctx *ctx, struct cora_emit *out,
			  const char *noun, const char *id_key,
			  const char *type)
{
	const char *raw;
	char *reason = NULL;
	json_t *p;
	int rc;

	if ((rc = cora_need_state(state, ctx, noun)))
		return rc;
	if (cora_json_is(state, "status", "Deprecated"))
		return cora_error_set(CORA_ESTATE,
				      "cannot deprecate %s '%s': it is "
				      "Deprecated", noun,
				      cora_label_named(state));
	if ((rc = cora_arg_opt_str(&raw, cmd, "reason", "reason")))
		return rc;
	if (raw && (rc = cora_text_reason(&reason, raw)))
		return rc;
	p = cora_payload_new(ctx, id_key);
	if (p && reason)
		json_object_set_new(p, "reason", json_string(reason));
	free(reason);
	return cora_emit(out, type, p);
}
