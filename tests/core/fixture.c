/*
 * fixture.c: the JSON-backed decider context of fixture.h.
 */
#include "tests/core/fixture.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fx_lookup(struct cora_ctx *ctx, const char *stream_type,
		     const char *ref, const json_t **state)
{
	struct fixture *f = ctx->arg;
	json_t *kind = json_object_get(f->states, stream_type);
	const char *id;
	json_t *s;

	s = json_object_get(kind, ref);
	if (s) {
		*state = s;
		return 0;
	}
	json_object_foreach(kind, id, s) {
		const char *slug = cora_json_str(s, "slug");
		if (slug && strcmp(slug, ref) == 0) {
			*state = s;
			return 0;
		}
	}
	return CORA_ENOTFOUND;
}

static void fill(struct cora_node_info *info, const json_t *n)
{
	const char *sha = cora_json_str(n, "sha256");

	memset(info, 0, sizeof(*info));
	info->type = cora_json_str(n, "type")[0];
	info->size = cora_json_int(n, "size", 0);
	info->mode = (uint32_t)cora_json_int(n, "mode", 0);
	info->ino = cora_json_int(n, "ino", 0);
	if (sha)
		snprintf(info->sha256, sizeof(info->sha256), "%s", sha);
}

static int fx_node(struct cora_ctx *ctx, const char *dataset_id,
		   const char *path, struct cora_node_info *info)
{
	struct fixture *f = ctx->arg;
	json_t *n;

	if (path[0] == '\0') {
		memset(info, 0, sizeof(*info));
		info->type = 'd';
		info->mode = 0755;
		return 0;
	}
	n = json_object_get(json_object_get(f->nodes, dataset_id), path);
	if (!n)
		return CORA_ENOTFOUND;
	fill(info, n);
	return 0;
}

static int fx_children(struct cora_ctx *ctx, const char *dataset_id,
		       const char *path, int64_t *count)
{
	struct fixture *f = ctx->arg;
	json_t *all = json_object_get(f->nodes, dataset_id), *n;
	size_t plen = strlen(path);
	const char *p;

	*count = 0;
	json_object_foreach(all, p, n) {
		const char *rest;
		if (plen == 0)
			rest = p;
		else if (strncmp(p, path, plen) == 0 && p[plen] == '/')
			rest = p + plen + 1;
		else
			continue;
		if (!strchr(rest, '/'))
			(*count)++;
	}
	return 0;
}

static int fx_files(struct cora_ctx *ctx, const char *dataset_id,
		    int (*fn)(void *, const char *,
			      const struct cora_node_info *),
		    void *arg)
{
	struct fixture *f = ctx->arg;
	json_t *all = json_object_get(f->nodes, dataset_id), *n;
	struct cora_node_info info;
	const char *p;
	int rc;

	json_object_foreach(all, p, n) {
		fill(&info, n);
		if (info.type != 'f')
			continue;
		rc = fn(arg, p, &info);
		if (rc)
			return rc;
	}
	return 0;
}

static void fx_new_id(struct cora_ctx *ctx, char out[37])
{
	struct fixture *f = ctx->arg;

	snprintf(out, 37, "00000000-0000-7000-8000-%012d", ++f->next_id);
}

void fixture_init(struct fixture *f, const char *now)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->now, sizeof(f->now), "%s",
		 now ? now : "2026-05-19T14:03:22+00:00");
	snprintf(f->stream_id, sizeof(f->stream_id),
		 "01900000-0000-7000-8000-000000000001");
	f->states = json_object();
	f->nodes = json_object();
	f->ctx.now = f->now;
	f->ctx.principal = "01900000-0000-7000-8000-00000000aaaa";
	f->ctx.stream_id = f->stream_id;
	f->ctx.lookup = fx_lookup;
	f->ctx.node = fx_node;
	f->ctx.node_children = fx_children;
	f->ctx.files = fx_files;
	f->ctx.new_id = fx_new_id;
	f->ctx.arg = f;
}

void fixture_release(struct fixture *f)
{
	json_decref(f->states);
	json_decref(f->nodes);
}

void fixture_put(struct fixture *f, const char *stream_type,
		 const json_t *state)
{
	json_t *kind = json_object_get(f->states, stream_type);

	if (!kind) {
		kind = json_object();
		json_object_set_new(f->states, stream_type, kind);
	}
	json_object_set_new(kind, cora_json_str(state, "id"),
			    json_deep_copy(state));
}

void fixture_put_node(struct fixture *f, const char *dataset_id,
		      const char *path, char type, int64_t size,
		      const char *sha256, uint32_t mode)
{
	json_t *ds = json_object_get(f->nodes, dataset_id);
	char t[2] = { type, 0 };

	if (!ds) {
		ds = json_object();
		json_object_set_new(f->nodes, dataset_id, ds);
	}
	json_object_set_new(ds, path,
		json_pack("{s:s, s:I, s:s?, s:i}", "type", t, "size",
			  (json_int_t)size, "sha256", sha256, "mode",
			  (int)mode));
}

void fixture_set_stream(struct fixture *f, const char *id)
{
	snprintf(f->stream_id, sizeof(f->stream_id), "%s", id);
}

int fixture_apply(json_t **state, const char *stream_type,
		  const struct cora_emit *out)
{
	size_t i;
	int rc;

	for (i = 0; i < out->n; i++) {
		rc = cora_evolve(state, stream_type, out->items[i].event_type,
				 out->items[i].payload);
		if (rc)
			return rc;
	}
	return 0;
}

int fixture_run(struct fixture *f, const char *name, json_t **state,
		json_t *cmd, struct cora_emit *out)
{
	const struct cora_command_def *def = cora_command_def_find(name);
	struct cora_emit local;
	struct cora_emit *e = out ? out : &local;
	int rc;

	if (!def) {
		fprintf(stderr, "fixture: no command '%s'\n", name);
		abort();
	}
	cora_emit_init(e);
	rc = def->decide(*state, cmd, &f->ctx, e);
	if (rc == 0)
		rc = fixture_apply(state, def->stream_type, e);
	if (!out)
		cora_emit_release(e);
	return rc;
}

const struct fixture_family_id fixture_family_ids[] = {
	{ "RotaryStage", "ac85e2a5-19f3-579f-8111-f71d7822f539" },
	{ "Camera", "28608285-97cb-57ec-a20d-09c33a0dba33" },
	{ "Scintillator", "27c4ed45-824d-5f7d-b0c9-f71f12efa7f9" },
	{ "Hexapod", "dba71675-3e10-5d83-8dc9-445017549234" },
	{ "LinearStage", "a3617f96-1d9d-52cc-b0e7-6c256a2e500e" },
	{ "MotionController", "f540b3e6-e569-5945-9d45-c91f7afd715f" },
	{ "Housing", "32360fac-50fc-51e1-a2c5-f229101c455f" },
	{ "Objective", "95b8c999-d5c7-5c4c-abf7-9152e5820726" },
	{ NULL, NULL },
};

const char *fixture_sha(int n)
{
	static _Thread_local char buf[8][65];
	static _Thread_local int slot;
	char *b = buf[slot++ % 8];

	snprintf(b, 65, "%064x", n);
	return b;
}
