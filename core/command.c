/*
 * command.c: the command runner (see command.h) and the decider context
 * it builds from the projections.
 */
#include "core/command.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/projection.h"
#include "core/uuid.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The context's cache of states looked up, freed with the command. */
struct runner {
	struct cora_catalog *cat;
	json_t *seen;   /* {stream_type + ":" + ref: state} */
};

static int ctx_lookup(struct cora_ctx *ctx, const char *stream_type,
		      const char *ref, const json_t **state)
{
	struct runner *r = ctx->arg;
	json_t *s;
	char *key;
	int rc;

	if (!ref)
		return CORA_ENOTFOUND;
	if (asprintf(&key, "%s:%s", stream_type, ref) < 0)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	s = json_object_get(r->seen, key);
	if (!s) {
		rc = cora_entity_get(r->cat, stream_type, ref, &s, NULL, NULL);
		if (rc) {
			free(key);
			return rc;
		}
		json_object_set_new(r->seen, key, s);
	}
	free(key);
	*state = s;
	return 0;
}

static int ctx_node(struct cora_ctx *ctx, const char *dataset_id,
		    const char *path, struct cora_node_info *info)
{
	struct runner *r = ctx->arg;

	return cora_node_get(r->cat, dataset_id, path, info);
}

static int ctx_children(struct cora_ctx *ctx, const char *dataset_id,
			const char *path, int64_t *count)
{
	struct runner *r = ctx->arg;
	struct cora_node_info info;
	int rc = cora_node_get(r->cat, dataset_id, path, &info);

	if (rc)
		return rc;
	return cora_node_count_children(r->cat, info.ino, count);
}

static int ctx_files(struct cora_ctx *ctx, const char *dataset_id,
		     int (*fn)(void *, const char *,
			       const struct cora_node_info *),
		     void *arg)
{
	struct runner *r = ctx->arg;

	return cora_dataset_files(r->cat, dataset_id, fn, arg);
}

static void ctx_new_id(struct cora_ctx *ctx, char out[37])
{
	(void)ctx;
	cora_uuid_v7_str(out);
}

const char *cora_command_stream_type(const char *name)
{
	const struct cora_command_def *def = cora_command_def_find(name);

	return def ? def->stream_type : NULL;
}

static void lower_kind(char *buf, size_t size, const char *stream_type)
{
	size_t i;

	for (i = 0; stream_type[i] && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)stream_type[i]);
	buf[i] = '\0';
}

int cora_command_with_id(struct cora_catalog *cat, const char *name,
			 const char *target, const char *new_id,
			 const json_t *cmd, struct cora_result *res)
{
	const struct cora_command_def *def = cora_command_def_find(name);
	struct runner r = { cat, NULL };
	struct cora_ctx ctx;
	struct cora_emit out;
	struct cora_event e;
	char stream_id[37], now[CORA_TIME_STRLEN], kind[32];
	json_t *state = NULL;
	int64_t version = 0, *positions = NULL;
	size_t i;
	int rc;

	if (!def)
		return cora_error_set(CORA_EINVALID, "unknown command '%s'",
				      name);
	cora_emit_init(&out);
	r.seen = CORA_FAULT(CORA_FAULT_ALLOC) ? NULL : json_object();
	if (!r.seen)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	rc = cora_tx_begin(cat);
	if (rc)
		goto done;

	/* 1. the target stream and its snapshot */
	if (def->genesis) {
		if (new_id)
			snprintf(stream_id, sizeof(stream_id), "%s", new_id);
		else if (def->genesis_id)
			rc = def->genesis_id(cmd, stream_id);
		else
			cora_uuid_v7_str(stream_id);
		if (rc)
			goto fail;
		rc = cora_entity_get(cat, def->stream_type, stream_id, &state,
				     &version, NULL);
		if (rc == CORA_ENOTFOUND)
			rc = 0;
	} else {
		lower_kind(kind, sizeof(kind), def->stream_type);
		rc = cora_entity_get(cat, def->stream_type, target ? target : "",
				     &state, &version, NULL);
		if (rc == CORA_ENOTFOUND)
			rc = cora_error_set(CORA_ENOTFOUND,
					    "%s '%s' does not exist", kind,
					    target ? target : "");
		if (rc == 0)
			snprintf(stream_id, sizeof(stream_id), "%s",
				 cora_json_str(state, "id"));
	}
	if (rc)
		goto fail;

	/* 2. decide */
	memset(&ctx, 0, sizeof(ctx));
	ctx.now = cora_time_now(now);
	ctx.principal = cat->principal;
	ctx.stream_id = stream_id;
	ctx.lookup = ctx_lookup;
	ctx.node = ctx_node;
	ctx.node_children = ctx_children;
	ctx.files = ctx_files;
	ctx.new_id = ctx_new_id;
	ctx.arg = &r;
	rc = def->decide(state, cmd, &ctx, &out);
	if (rc)
		goto fail;

	/* 3. append, fold, project */
	if (out.n > 0) {
		positions = calloc(out.n, sizeof(*positions));
		if (!positions) {
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
			goto fail;
		}
		rc = cora_store_append(cat, def->stream_type, stream_id,
				       version, out.items, out.n, positions);
		if (rc)
			goto fail;
	}
	for (i = 0; i < out.n; i++) {
		memset(&e, 0, sizeof(e));
		e.position = positions[i];
		snprintf(e.stream_type, sizeof(e.stream_type), "%s",
			 def->stream_type);
		snprintf(e.stream_id, sizeof(e.stream_id), "%s", stream_id);
		e.version = version + (int64_t)i + 1;
		snprintf(e.event_type, sizeof(e.event_type), "%s",
			 out.items[i].event_type);
		e.payload = out.items[i].payload;
		snprintf(e.occurred_at, sizeof(e.occurred_at), "%s",
			 cora_json_str(e.payload, "occurred_at") ?
			 cora_json_str(e.payload, "occurred_at") : now);
		rc = cora_evolve(&state, def->stream_type, e.event_type,
				 e.payload);
		if (rc == 0)
			rc = cora_project(cat, &e, state);
		if (rc)
			goto fail;
	}

	/* 4. commit */
	rc = cora_tx_commit(cat);
	if (rc)
		goto done;
	if (res) {
		snprintf(res->stream_id, sizeof(res->stream_id), "%s",
			 stream_id);
		res->version = version + (int64_t)out.n;
		res->events = out.n;
		res->position = out.n ? positions[out.n - 1] : 0;
	}
	goto done;
fail:
	cora_tx_rollback(cat);
done:
	free(positions);
	cora_emit_release(&out);
	json_decref(state);
	json_decref(r.seen);
	return rc;
}

int cora_command(struct cora_catalog *cat, const char *name,
		 const char *target, const json_t *cmd,
		 struct cora_result *res)
{
	return cora_command_with_id(cat, name, target, NULL, cmd, res);
}
