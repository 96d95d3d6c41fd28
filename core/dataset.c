/*
 * dataset.c: the Dataset aggregate (reference 3.1-3.4): registration, the
 * file tree of a Trial dataset, and the two state axes.
 *
 * State machine.  Status and intent are independent axes:
 *
 *     status  (none) --register--> Registered --discard--> Discarded
 *     intent  (none) --register--> Trial --promote--> Production
 *                                                 --demote--> Retracted
 *
 *     transition               command               event
 *     register                 dataset.register      DatasetRegistered
 *     Trial -> Production      dataset.promote       DatasetPromoted
 *     Production -> Retracted  dataset.demote        DatasetDemoted
 *     Registered -> Discarded  dataset.discard       DatasetDiscarded
 *
 * Invariants:
 *
 *  1. The file tree changes only while status is Registered and intent is
 *     Trial (our addition to CORA, DESIGN 3.2); otherwise a file-tree
 *     command fails with CORA_EREADONLY.
 *  2. The tree itself is not in the state: the projection holds it, and a
 *     decider sees it through ctx->node, ctx->node_children and ctx->files.
 *     File-tree events therefore fold to no change but "updated_at".
 *  3. checksum, byte_size and file_count are null until DatasetPromoted
 *     sets them (sha256-tree over every regular file, reference 3.4); they
 *     never change afterwards, because the files are frozen (1).
 *  4. Sets (conforms_to, derived_from, used_calibration_ids) are sorted
 *     byte-wise without duplicates, in payloads and in the state.
 *  5. A node's parent is always an existing folder; "" is the root folder,
 *     which always exists and cannot be removed, moved or replaced.
 *
 * Deviation from CORA: CORA snapshots the producing run's status at
 * registration and promote checks that snapshot.  Our datasets are
 * registered while their run is still running (mkdir, then cp), so
 * promote looks the run up at promotion time and requires Completed.
 * The snapshot is still recorded (producing_run_end_state).
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

#define DS_NAME_MAX 200
#define DS_MEDIA_TYPE_MAX 200
#define DS_CONFORMS_TO_MAX 16
#define DS_DERIVED_FROM_MAX 64
#define DS_CALIBRATIONS_MAX 64
#define DS_SYMLINK_TARGET_MAX 4095
#define DS_XATTR_NAME_MAX 255
#define DS_XATTR_VALUE_MAX 65536
#define DS_MODE_MAX 07777

/* ---- command arguments ------------------------------------------------ */

/* A required integer member in min..max. */
static int arg_int(json_int_t *out, const json_t *cmd, const char *key,
		   json_int_t min, json_int_t max, const char *what)
{
	const json_t *v = json_object_get(cmd, key);

	if (!v || json_is_null(v))
		return cora_error_set(CORA_EINVALID, "%s is missing", what);
	if (!json_is_integer(v))
		return cora_error_set(CORA_EINVALID, "%s must be an integer",
				      what);
	*out = json_integer_value(v);
	if (*out < min && max == INT64_MAX)
		return cora_error_set(CORA_EINVALID,
				      "%s must be %lld or more, not %lld",
				      what, (long long)min, (long long)*out);
	if (*out < min || *out > max)
		return cora_error_set(CORA_EINVALID,
				      "%s %lld is outside %lld to %lld", what,
				      (long long)*out, (long long)min,
				      (long long)max);
	return 0;
}

/* A file mode: permission bits only.  Absent or null gives dflt, unless
 * dflt is negative (the mode is the point of the command). */
static int arg_mode(json_int_t *out, const json_t *cmd, json_int_t dflt)
{
	const json_t *v = json_object_get(cmd, "mode");

	if ((!v || json_is_null(v)) && dflt >= 0) {
		*out = dflt;
		return 0;
	}
	if (!v || json_is_null(v))
		return cora_error_set(CORA_EINVALID, "mode is missing");
	if (!json_is_integer(v))
		return cora_error_set(CORA_EINVALID, "mode must be an integer");
	*out = json_integer_value(v);
	if (*out < 0 || *out > DS_MODE_MAX)
		return cora_error_set(CORA_EINVALID,
				      "mode %s%#llo is outside 0 to 07777",
				      *out < 0 ? "-" : "",
				      (unsigned long long)(*out < 0 ? -*out :
							   *out));
	return 0;
}

/* A modification time in nanoseconds since the epoch (before 1970 is
 * allowed).  Absent or null gives the command's time, unless required. */
static int arg_mtime(json_int_t *out, const json_t *cmd,
		     const struct cora_ctx *ctx, bool required)
{
	const json_t *v = json_object_get(cmd, "mtime_ns");
	int64_t us;

	if ((!v || json_is_null(v)) && !required) {
		if (cora_time_parse(&us, ctx->now) != 0)
			CORA_BUG("ctx->now is not a time");
		/* saturates past 2262 (CORA_FAKE_NOW can be later), as the
		 * projections do, rather than overflow */
		*out = cora_time_us_to_ns(us);
		return 0;
	}
	return arg_int(out, cmd, "mtime_ns", INT64_MIN, INT64_MAX,
		       "mtime_ns");
}

/* ---- state ------------------------------------------------------------ */

static const char *kind_name(char type)
{
	return type == 'd' ? "folder" : type == 'l' ? "symbolic link" : "file";
}

static int need_state(const json_t *state, const struct cora_ctx *ctx)
{
	if (!state)
		return cora_error_set(CORA_ENOTFOUND,
				      "dataset '%s' does not exist",
				      ctx->stream_id);
	return 0;
}

/* ---- evolvers --------------------------------------------------------- */

/* State key <- payload key, for the genesis fold. */
static const struct cora_field_map registered_fields[] = {
	{ "id", "dataset_id" },
	{ "slug", "slug" },
	{ "name", "name" },
	{ "uri", "uri" },
	{ "producing_run_id", "producing_run_id" },
	{ "producing_run_end_state", "producing_run_end_state" },
	{ "producing_procedure_id", "producing_procedure_id" },
	{ "producing_actuation_kind", "producing_actuation_kind" },
	{ "subject_id", "subject_id" },
	{ "derived_from", "derived_from" },
	{ "used_calibration_ids", "used_calibration_ids" },
	{ "intent", "intent" },
	{ "checksum", "checksum" },
	{ "byte_size", "byte_size" },
};

static int evolve_registered(json_t **state, const char *type,
			     const json_t *p)
{
	const json_t *enc = json_object_get(p, "encoding");
	json_t *s;
	bool bad = false;
	int rc;

	if (!json_is_object(enc))
		return cora_error_set(CORA_ECORRUPT,
				      "malformed %s payload", type);
	if ((rc = cora_state_from(&s, type, p, "dataset_id",
				  registered_fields,
				  sizeof(registered_fields) /
				  sizeof(registered_fields[0]), &bad)))
		return rc;
	cora_json_put(s, "media_type", cora_json_copy_of(enc, "media_type"),
		      &bad);
	cora_json_put(s, "conforms_to", cora_json_copy_of(enc, "conforms_to"),
		      &bad);
	cora_json_put(s, "status", json_string("Registered"), &bad);
	cora_json_put(s, "file_count", json_null(), &bad);
	return cora_state_done(state, s, bad);
}

static int evolve_promoted(json_t **state, const char *type, const json_t *p)
{
	bool bad = false;

	cora_json_put(*state, "intent", json_string("Production"), &bad);
	cora_json_put(*state, "checksum", cora_json_copy_of(p, "checksum"),
	    &bad);
	cora_json_put(*state, "byte_size",
	    cora_json_copy_of(p, "byte_size"), &bad);
	cora_json_put(*state, "file_count",
	    cora_json_copy_of(p, "file_count"), &bad);
	return bad ? cora_error_set(CORA_ENOMEM, "out of memory") : 0;
}

static int evolve_demoted(json_t **state, const char *type, const json_t *p)
{
	json_object_set_new(*state, "intent", json_string("Retracted"));
	return 0;
}

static int evolve_discarded(json_t **state, const char *type, const json_t *p)
{
	json_object_set_new(*state, "status", json_string("Discarded"));
	return 0;
}

/* File-tree events: the projection folds them (invariant 2). */
static int evolve_tree(json_t **state, const char *type, const json_t *p)
{
	return 0;
}

/* ---- event table ------------------------------------------------------ */

static const char *const k_none[] = { NULL };
static const char *const k_registered[] = {
	"dataset_id", "slug", "name", "uri", "checksum", "byte_size",
	"encoding", "producing_run_id", "subject_id", "derived_from",
	"occurred_at", "registered_by", "producing_run_end_state",
	"producing_procedure_id", "producing_actuation_kind", "intent",
	"used_calibration_ids", NULL,
};
static const char *const k_promoted[] = {
	"dataset_id", "reason", "occurred_at", "promoted_by", "checksum",
	"byte_size", "file_count", NULL,
};
static const char *const k_demoted[] = {
	"dataset_id", "reason", "occurred_at", "demoted_by", NULL,
};
static const char *const k_discarded[] = {
	"dataset_id", "reason", "occurred_at", "discarded_by", NULL,
};
static const char *const k_file_added[] = {
	"dataset_id", "path", "sha256", "size", "mode", "mtime_ns",
	"occurred_at", "added_by", NULL,
};
static const char *const k_file_replaced[] = {
	"dataset_id", "path", "sha256", "size", "mode", "mtime_ns",
	"occurred_at", "replaced_by", NULL,
};
static const char *const k_symlink_added[] = {
	"dataset_id", "path", "target", "mtime_ns", "occurred_at",
	"added_by", NULL,
};
static const char *const k_moved[] = {
	"dataset_id", "from", "to", "occurred_at", "moved_by", NULL,
};
static const char *const k_file_removed[] = {
	"dataset_id", "path", "occurred_at", "removed_by", NULL,
};
static const char *const k_folder_added[] = {
	"dataset_id", "path", "mode", "mtime_ns", "occurred_at", "added_by",
	NULL,
};
static const char *const k_folder_removed[] = {
	"dataset_id", "path", "occurred_at", "removed_by", NULL,
};
static const char *const k_mode[] = {
	"dataset_id", "path", "mode", "occurred_at", "changed_by", NULL,
};
static const char *const k_owner[] = {
	"dataset_id", "path", "uid", "gid", "occurred_at", "changed_by", NULL,
};
static const char *const k_mtime[] = {
	"dataset_id", "path", "mtime_ns", "occurred_at", "changed_by", NULL,
};
static const char *const k_xattr_set[] = {
	"dataset_id", "path", "name", "value", "occurred_at", "set_by", NULL,
};
static const char *const k_xattr_removed[] = {
	"dataset_id", "path", "name", "occurred_at", "removed_by", NULL,
};

#define EV(t, k, g, fn) { .type = (t), .stream_type = "Dataset", .keys = (k), \
	.optional_keys = k_none, .genesis = (g), .evolve = (fn) }
/* Events that create a node may carry the inode number the mount
 * reserved for it (aggregate.h, CORA_INO_RESERVED) and its owner (uid,
 * gid; absent: the user who mounts the catalog). */
static const char *const k_ino[] = { "ino", "uid", "gid", NULL };
#define EV_NODE(t, k, fn) { .type = (t), .stream_type = "Dataset", \
	.keys = (k), .optional_keys = k_ino, .genesis = false, .evolve = (fn) }

const struct cora_event_def cora_dataset_events[] = {
	EV("DatasetRegistered", k_registered, true, evolve_registered),
	EV("DatasetPromoted", k_promoted, false, evolve_promoted),
	EV("DatasetDemoted", k_demoted, false, evolve_demoted),
	EV("DatasetDiscarded", k_discarded, false, evolve_discarded),
	EV_NODE("DatasetFileAdded", k_file_added, evolve_tree),
	EV("DatasetFileReplaced", k_file_replaced, false, evolve_tree),
	EV_NODE("DatasetSymlinkAdded", k_symlink_added, evolve_tree),
	EV("DatasetEntryMoved", k_moved, false, evolve_tree),
	EV("DatasetFileRemoved", k_file_removed, false, evolve_tree),
	EV_NODE("DatasetFolderAdded", k_folder_added, evolve_tree),
	EV("DatasetFolderRemoved", k_folder_removed, false, evolve_tree),
	EV("DatasetModeChanged", k_mode, false, evolve_tree),
	EV("DatasetMtimeChanged", k_mtime, false, evolve_tree),
	EV("DatasetOwnerChanged", k_owner, false, evolve_tree),
	EV("DatasetXattrSet", k_xattr_set, false, evolve_tree),
	EV("DatasetXattrRemoved", k_xattr_removed, false, evolve_tree),
	{ .type = NULL },
};

/* ---- register --------------------------------------------------------- */

/* Validates every entry of a list with fn and returns a sorted copy. */
static int uri_set(json_t **out, const json_t *list, const char *what)
{
	const json_t *e;
	char *v;
	size_t i;
	int rc;

	*out = json_array();
	if (!*out)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	json_array_foreach(list, i, e) {
		rc = cora_text_uri(&v, json_string_value(e), what);
		if (rc)
			return rc;
		rc = json_array_append_new(*out, json_string(v));
		free(v);
		if (rc)
			return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	cora_json_sort_strings(*out);
	return 0;
}

static int decide_register(const json_t *state, const json_t *cmd,
			   struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *slug, *in_name, *in_uri, *in_media, *run_ref, *subject;
	const json_t *in_conforms, *in_derived, *in_calib, *run = NULL,
		     *other, *e;
	json_t *conforms = NULL, *derived = NULL, *calib = NULL, *p;
	char *name = NULL, *uri = NULL, *media = NULL;
	bool bad = false;
	size_t i;
	struct cora_uuid u;
	int rc;

	if ((rc = cora_arg_str(&slug, cmd, "slug", "dataset slug")) ||
	    (rc = cora_text_slug(slug, "dataset")))
		return rc;
	/* A reference is an id or a slug: a slug shaped like an id would
	 * be ambiguous. */
	if (cora_uuid_parse(&u, slug) == 0)
		return cora_error_set(CORA_EINVALID,
				      "dataset slug '%s' may not be a uuid",
				      slug);
	if (state || ctx->lookup(ctx, "Dataset", slug, &other) == 0)
		return cora_error_set(CORA_EEXISTS,
				      "dataset '%s' already exists", slug);
	if ((rc = cora_arg_opt_str(&in_name, cmd, "name", "dataset name")) ||
	    (rc = cora_arg_opt_str(&in_uri, cmd, "uri", "dataset uri")) ||
	    (rc = cora_arg_opt_str(&in_media, cmd, "media_type",
				   "media type")) ||
	    (rc = cora_arg_opt_str(&run_ref, cmd, "producing_run",
			      "producing run")) ||
	    (rc = cora_arg_opt_str(&subject, cmd, "subject_id",
				   "subject id")) ||
	    (rc = cora_arg_opt_strings(&in_conforms, cmd, "conforms_to",
				  DS_CONFORMS_TO_MAX, "conforms_to")) ||
	    (rc = cora_arg_opt_strings(&in_derived, cmd, "derived_from",
				  DS_DERIVED_FROM_MAX, "derived_from")) ||
	    (rc = cora_arg_opt_strings(&in_calib, cmd, "used_calibration_ids",
				  DS_CALIBRATIONS_MAX,
				  "used_calibration_ids")))
		return rc;

	rc = cora_text_bounded(&name, in_name ? in_name : slug, 1,
			       DS_NAME_MAX, "dataset name");
	if (rc)
		goto out;
	if (in_uri) {
		rc = cora_text_uri(&uri, in_uri, "dataset uri");
	} else if (asprintf(&uri, "urn:uuid:%s", ctx->stream_id) < 0) {
		uri = NULL;
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
	}
	if (rc)
		goto out;
	rc = cora_text_bounded(&media, in_media ? in_media :
			       "application/octet-stream", 1,
			       DS_MEDIA_TYPE_MAX, "media type");
	if (rc)
		goto out;
	if (!strchr(media, '/')) {
		rc = cora_error_set(CORA_EINVALID,
				    "media type '%s' is not of the form "
				    "type/subtype", media);
		goto out;
	}
	if (subject && !cora_uuid_valid(subject)) {
		rc = cora_error_set(CORA_EINVALID,
				    "subject id '%s' is not a UUID", subject);
		goto out;
	}
	if ((rc = uri_set(&conforms, in_conforms, "conforms_to URI")) ||
	    (rc = cora_arg_uuid_set(&calib, in_calib, "calibration id")))
		goto out;

	/* References, after every value is known to be well formed. */
	if (run_ref && ctx->lookup(ctx, "Run", run_ref, &run) != 0) {
		rc = cora_error_set(CORA_ENOTFOUND,
				    "cannot register dataset '%s': producing "
				    "run '%s' does not exist", slug, run_ref);
		goto out;
	}
	derived = json_array();
	if (!derived) {
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(in_derived, i, e) {
		const char *ref = json_string_value(e);
		if (ctx->lookup(ctx, "Dataset", ref, &other) != 0) {
			rc = cora_error_set(CORA_ENOTFOUND,
					    "cannot register dataset '%s': "
					    "derived-from dataset '%s' does "
					    "not exist", slug, ref);
			goto out;
		}
		if (cora_json_is(other, "status", "Discarded")) {
			rc = cora_error_set(CORA_ESTATE,
					    "cannot register dataset '%s': "
					    "derived-from dataset '%s' is "
					    "Discarded", slug, ref);
			goto out;
		}
		if (json_array_append_new(derived,
				json_string(cora_json_str(other, "id")))) {
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
			goto out;
		}
	}
	cora_json_sort_strings(derived);

	p = cora_payload_new(ctx, "dataset_id");
	cora_json_put(p, "slug", json_string(slug), &bad);
	cora_json_put(p, "name", json_string(name), &bad);
	cora_json_put(p, "uri", json_string(uri), &bad);
	cora_json_put(p, "checksum", json_null(), &bad);
	cora_json_put(p, "byte_size", json_null(), &bad);
	cora_json_put(p, "encoding", json_pack("{s:s, s:O}", "media_type",
					       media, "conforms_to", conforms),
		      &bad);
	cora_json_put(p, "producing_run_id",
		      cora_json_str_or_null(cora_json_str(run, "id")), &bad);
	cora_json_put(p, "producing_run_end_state",
		      cora_json_str_or_null(cora_json_str(run, "status")), &bad);
	cora_json_put(p, "producing_procedure_id", json_null(), &bad);
	cora_json_put(p, "producing_actuation_kind", json_null(), &bad);
	cora_json_put(p, "subject_id", cora_json_str_or_null(subject), &bad);
	cora_json_put(p, "derived_from", json_incref(derived), &bad);
	cora_json_put(p, "used_calibration_ids", json_incref(calib), &bad);
	cora_json_put(p, "intent", json_string("Trial"), &bad);
	rc = cora_emit_by(out, "DatasetRegistered", p, "registered_by", ctx,
			  bad);
out:
	free(name);
	free(uri);
	free(media);
	json_decref(conforms);
	json_decref(derived);
	json_decref(calib);
	return rc;
}

/* ---- file tree -------------------------------------------------------- */

/* Invariant 1. */
static int tree_writable(const json_t *state, const struct cora_ctx *ctx)
{
	const char *frozen = NULL;
	int rc;

	if ((rc = need_state(state, ctx)))
		return rc;
	if (!cora_json_is(state, "status", "Registered"))
		frozen = cora_json_str(state, "status");
	else if (!cora_json_is(state, "intent", "Trial"))
		frozen = cora_json_str(state, "intent");
	if (frozen)
		return cora_error_set(CORA_EREADONLY,
				      "dataset '%s' is %s: its files are "
				      "frozen", cora_label(state), frozen);
	return 0;
}

/* A node, or *found = false.  Other errors (the catalog failing)
 * propagate. */
static int find_node(bool *found, struct cora_ctx *ctx, const json_t *state,
		     const char *path, struct cora_node_info *info)
{
	int rc = ctx->node(ctx, cora_json_str(state, "id"), path, info);

	*found = rc == 0;
	return rc == CORA_ENOTFOUND ? 0 : rc;
}

static int need_node(struct cora_ctx *ctx, const json_t *state,
		     const char *path, struct cora_node_info *info)
{
	bool found;
	int rc = find_node(&found, ctx, state, path, info);

	if (rc)
		return rc;
	if (!found)
		return cora_error_set(CORA_ENOTFOUND,
				      "'%s' does not exist in dataset '%s'",
				      path, cora_label(state));
	return 0;
}

/* Invariant 5: the folder that would hold path exists. */
static int need_parent(struct cora_ctx *ctx, const json_t *state,
		       const char *path)
{
	struct cora_node_info info;
	const char *slash = strrchr(path, '/');
	char *parent;
	bool found;
	int rc;

	if (!slash)
		return 0; /* the root folder */
	parent = strndup(path, (size_t)(slash - path));
	if (!parent)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	rc = find_node(&found, ctx, state, parent, &info);
	if (rc == 0 && !found)
		rc = cora_error_set(CORA_ENOTFOUND,
				    "folder '%s' does not exist in dataset "
				    "'%s'", parent, cora_label(state));
	else if (rc == 0 && info.type != 'd')
		rc = cora_error_set(CORA_ENOTDIR,
				    "'%s' is a %s in dataset '%s', not a "
				    "folder", parent, kind_name(info.type),
				    cora_label(state));
	free(parent);
	return rc;
}

/* A path argument: relative and well formed; "" (the root) only when
 * root_ok. */
static int arg_path(const char **out, const json_t *cmd, const char *key,
		    bool root_ok)
{
	int rc = cora_arg_str(out, cmd, key, key);

	if (rc)
		return rc;
	if (root_ok && (*out)[0] == '\0')
		return 0;
	return cora_text_relpath(*out, key);
}

/* A file-tree payload: dataset_id, path, occurred_at. */
static json_t *tree_payload(struct cora_ctx *ctx, const char *path,
			    bool *bad)
{
	json_t *p = cora_payload_new(ctx, "dataset_id");

	cora_json_put(p, "path", json_string(path), bad);
	return p;
}

/* Emits a file-tree event on path with nothing more to say than key = v
 * (v taken; no member when key is NULL). */
static int emit_tree(struct cora_emit *out, const char *type,
		     const char *by_key, struct cora_ctx *ctx,
		     const char *path, const char *key, json_t *v)
{
	bool bad = false;
	json_t *p = tree_payload(ctx, path, &bad);

	if (key)
		cora_json_put(p, key, v, &bad);
	return cora_emit_by(out, type, p, by_key, ctx, bad);
}

/* An owner id of the command (uid or gid), copied into the payload. */
static int put_owner(json_t *p, const json_t *cmd, const char *key,
		     bool *bad)
{
	const json_t *v = json_object_get(cmd, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 0xfffffffeLL)
		return cora_error_set(CORA_EINVALID, "%s must be a number "
				      "from 0 to 4294967294", key);
	cora_json_put(p, key, json_integer(json_integer_value(v)), bad);
	return 0;
}

/* Copies a reserved inode number and the owner from the command into a
 * payload that creates a node; anything else in "ino" is refused. */
static int put_ino(json_t *p, const json_t *cmd, bool *bad)
{
	const json_t *v = json_object_get(cmd, "ino");
	int rc;

	if ((rc = put_owner(p, cmd, "uid", bad)) ||
	    (rc = put_owner(p, cmd, "gid", bad)))
		return rc;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < CORA_INO_RESERVED ||
	    json_integer_value(v) >= CORA_INO_LIMIT)
		return cora_error_set(CORA_EINVALID,
				      "inode number must be a reserved one");
	cora_json_put(p, "ino", json_integer(json_integer_value(v)), bad);
	return 0;
}

/* A new node may go at path: its parent is a folder, nothing is there. */
static int need_free(struct cora_ctx *ctx, const json_t *state,
		     const char *path)
{
	struct cora_node_info info;
	bool found;
	int rc;

	if ((rc = need_parent(ctx, state, path)) ||
	    (rc = find_node(&found, ctx, state, path, &info)))
		return rc;
	if (found)
		return cora_error_set(CORA_EEXISTS,
				      "'%s' already exists in dataset '%s'",
				      path, cora_label(state));
	return 0;
}

/* Emits the event p (taken) that creates a node, with the command's
 * owner and reserved inode number. */
static int emit_added(struct cora_emit *out, const char *type, json_t *p,
		      bool bad, const json_t *cmd, struct cora_ctx *ctx)
{
	int rc;

	if ((rc = put_ino(p, cmd, &bad))) {
		json_decref(p);
		return rc;
	}
	return cora_emit_by(out, type, p, "added_by", ctx, bad);
}

static int decide_put_file(const json_t *state, const json_t *cmd,
			   struct cora_ctx *ctx, struct cora_emit *out)
{
	struct cora_node_info info;
	const char *path, *sha;
	json_int_t size = 0, mode = 0, mtime = 0;
	bool found;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = tree_writable(state, ctx)) ||
	    (rc = arg_path(&path, cmd, "path", false)) ||
	    (rc = cora_arg_str(&sha, cmd, "sha256", "sha256")) ||
	    (rc = cora_text_sha256(sha, "sha256")) ||
	    (rc = arg_int(&size, cmd, "size", 0, INT64_MAX, "size")) ||
	    (rc = arg_mode(&mode, cmd, 0644)) ||
	    (rc = arg_mtime(&mtime, cmd, ctx, false)) ||
	    (rc = need_parent(ctx, state, path)) ||
	    (rc = find_node(&found, ctx, state, path, &info)))
		return rc;
	if (found && info.type == 'd')
		return cora_error_set(CORA_EISDIR,
				      "'%s' is a folder in dataset '%s'", path,
				      cora_label(state));
	/* The fs layer resolves symbolic links before it writes, so a link
	 * here means the tree changed under a writer: refuse. */
	if (found && info.type != 'f')
		return cora_error_set(CORA_EEXISTS,
				      "'%s' is a %s in dataset '%s'", path,
				      kind_name(info.type), cora_label(state));
	if (found && strcmp(info.sha256, sha) == 0 && info.size == size &&
	    info.mode == (uint32_t)mode && info.mtime_ns == mtime)
		return 0;
	p = tree_payload(ctx, path, &bad);
	cora_json_put(p, "sha256", json_string(sha), &bad);
	cora_json_put(p, "size", json_integer(size), &bad);
	cora_json_put(p, "mode", json_integer(mode), &bad);
	cora_json_put(p, "mtime_ns", json_integer(mtime), &bad);
	if (found)
		return cora_emit_by(out, "DatasetFileReplaced", p,
				    "replaced_by", ctx, bad);
	return emit_added(out, "DatasetFileAdded", p, bad, cmd, ctx);
}

static int decide_add_symlink(const json_t *state, const json_t *cmd,
			      struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *path, *target;
	json_int_t mtime;
	size_t n;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = tree_writable(state, ctx)) ||
	    (rc = arg_path(&path, cmd, "path", false)) ||
	    (rc = cora_arg_str(&target, cmd, "target", "link target")) ||
	    (rc = arg_mtime(&mtime, cmd, ctx, false)))
		return rc;
	n = strlen(target);
	if (n < 1 || n > DS_SYMLINK_TARGET_MAX)
		return cora_error_set(CORA_EINVALID,
				      "link target must be 1 to 4095 bytes, "
				      "not %zu", n);
	if (!cora_utf8_valid(target, n))
		return cora_error_set(CORA_EINVALID,
				      "link target is not valid UTF-8 text");
	if ((rc = need_free(ctx, state, path)))
		return rc;
	p = tree_payload(ctx, path, &bad);
	cora_json_put(p, "target", json_string(target), &bad);
	cora_json_put(p, "mtime_ns", json_integer(mtime), &bad);
	return emit_added(out, "DatasetSymlinkAdded", p, bad, cmd, ctx);
}

static int folder_children(int64_t *count, struct cora_ctx *ctx,
			   const json_t *state, const char *path)
{
	return ctx->node_children(ctx, cora_json_str(state, "id"), path,
				  count);
}

/* POSIX rename(2), decided on the projection:
 *
 *     from \ to    absent   file/link   empty folder   folder with entries
 *     file/link    move     replace     EISDIR         EISDIR
 *     folder       move     ENOTDIR     replace        ENOTEMPTY
 */
static int decide_move(const json_t *state, const json_t *cmd,
		       struct cora_ctx *ctx, struct cora_emit *out)
{
	struct cora_node_info src, dst;
	const char *from, *to, *label;
	size_t flen;
	int64_t count;
	bool found;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = tree_writable(state, ctx)) ||
	    (rc = arg_path(&from, cmd, "from", false)) ||
	    (rc = arg_path(&to, cmd, "to", false)) ||
	    (rc = need_node(ctx, state, from, &src)))
		return rc;
	if (strcmp(from, to) == 0)
		return 0;
	label = cora_label(state);
	flen = strlen(from);
	if (src.type == 'd' && strncmp(to, from, flen) == 0 &&
	    to[flen] == '/')
		return cora_error_set(CORA_EINVALID,
				      "cannot move folder '%s' into itself "
				      "('%s') in dataset '%s'", from, to,
				      label);
	if ((rc = need_parent(ctx, state, to)) ||
	    (rc = find_node(&found, ctx, state, to, &dst)))
		return rc;
	if (found && src.type != 'd' && dst.type == 'd')
		return cora_error_set(CORA_EISDIR,
				      "cannot move '%s' over folder '%s' in "
				      "dataset '%s'", from, to, label);
	if (found && src.type == 'd' && dst.type != 'd')
		return cora_error_set(CORA_ENOTDIR,
				      "cannot move folder '%s' over %s '%s' "
				      "in dataset '%s'", from,
				      kind_name(dst.type), to, label);
	if (found && src.type == 'd') {
		if ((rc = folder_children(&count, ctx, state, to)))
			return rc;
		if (count > 0)
			return cora_error_set(CORA_ENOTEMPTY,
					      "cannot move folder '%s' over "
					      "folder '%s' in dataset '%s': it "
					      "is not empty", from, to, label);
	}
	p = cora_payload_new(ctx, "dataset_id");
	cora_json_put(p, "from", json_string(from), &bad);
	cora_json_put(p, "to", json_string(to), &bad);
	return cora_emit_by(out, "DatasetEntryMoved", p, "moved_by", ctx, bad);
}

static int decide_remove(const json_t *state, const json_t *cmd,
			 struct cora_ctx *ctx, struct cora_emit *out)
{
	struct cora_node_info info;
	const char *path;
	int rc;

	if ((rc = tree_writable(state, ctx)) ||
	    (rc = arg_path(&path, cmd, "path", false)) ||
	    (rc = need_node(ctx, state, path, &info)))
		return rc;
	if (info.type == 'd')
		return cora_error_set(CORA_EISDIR,
				      "'%s' is a folder in dataset '%s'", path,
				      cora_label(state));
	return emit_tree(out, "DatasetFileRemoved", "removed_by", ctx, path,
			 NULL, NULL);
}

static int decide_add_folder(const json_t *state, const json_t *cmd,
			     struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *path;
	json_int_t mode, mtime;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = tree_writable(state, ctx)) ||
	    (rc = arg_path(&path, cmd, "path", false)) ||
	    (rc = arg_mode(&mode, cmd, 0755)) ||
	    (rc = arg_mtime(&mtime, cmd, ctx, false)) ||
	    (rc = need_free(ctx, state, path)))
		return rc;
	p = tree_payload(ctx, path, &bad);
	cora_json_put(p, "mode", json_integer(mode), &bad);
	cora_json_put(p, "mtime_ns", json_integer(mtime), &bad);
	return emit_added(out, "DatasetFolderAdded", p, bad, cmd, ctx);
}

static int decide_remove_folder(const json_t *state, const json_t *cmd,
				struct cora_ctx *ctx, struct cora_emit *out)
{
	struct cora_node_info info;
	const char *path;
	int64_t count;
	int rc;

	if ((rc = tree_writable(state, ctx)) ||
	    (rc = cora_arg_str(&path, cmd, "path", "path")))
		return rc;
	if (path[0] == '\0')
		return cora_error_set(CORA_EPERM,
				      "the root folder of dataset '%s' cannot "
				      "be removed", cora_label(state));
	if ((rc = cora_text_relpath(path, "path")) ||
	    (rc = need_node(ctx, state, path, &info)))
		return rc;
	if (info.type != 'd')
		return cora_error_set(CORA_ENOTDIR,
				      "'%s' is a %s in dataset '%s', not a "
				      "folder", path, kind_name(info.type),
				      cora_label(state));
	if ((rc = folder_children(&count, ctx, state, path)))
		return rc;
	if (count > 0)
		return cora_error_set(CORA_ENOTEMPTY,
				      "folder '%s' of dataset '%s' is not "
				      "empty", path, cora_label(state));
	return emit_tree(out, "DatasetFolderRemoved", "removed_by", ctx, path,
			 NULL, NULL);
}

static int decide_set_owner(const json_t *state, const json_t *cmd,
			    struct cora_ctx *ctx, struct cora_emit *out)
{
	struct cora_node_info info;
	const char *path;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = tree_writable(state, ctx)) ||
	    (rc = arg_path(&path, cmd, "path", true)) ||
	    (rc = need_node(ctx, state, path, &info)))
		return rc;
	if (!json_is_integer(json_object_get(cmd, "uid")) ||
	    !json_is_integer(json_object_get(cmd, "gid")))
		return cora_error_set(CORA_EINVALID, "an owner needs a uid "
				      "and a gid");
	if (info.uid == cora_json_int(cmd, "uid", -2) &&
	    info.gid == cora_json_int(cmd, "gid", -2))
		return 0;
	p = tree_payload(ctx, path, &bad);
	if ((rc = put_owner(p, cmd, "uid", &bad)) ||
	    (rc = put_owner(p, cmd, "gid", &bad))) {
		json_decref(p);
		return rc;
	}
	return cora_emit_by(out, "DatasetOwnerChanged", p, "changed_by", ctx,
			    bad);
}

/* set_mode and set_mtime: one attribute of an existing node, the root
 * included; setting it to what it is emits nothing. */
static int set_attr(bool mode, const json_t *state, const json_t *cmd,
		    struct cora_ctx *ctx, struct cora_emit *out)
{
	struct cora_node_info info;
	const char *path;
	json_int_t v;
	int rc;

	if ((rc = tree_writable(state, ctx)) ||
	    (rc = arg_path(&path, cmd, "path", true)) ||
	    (rc = mode ? arg_mode(&v, cmd, -1) :
		  arg_mtime(&v, cmd, ctx, true)) ||
	    (rc = need_node(ctx, state, path, &info)))
		return rc;
	if (mode ? info.mode == (uint32_t)v : info.mtime_ns == v)
		return 0;
	return emit_tree(out, mode ? "DatasetModeChanged" :
			 "DatasetMtimeChanged", "changed_by", ctx, path,
			 mode ? "mode" : "mtime_ns", json_integer(v));
}

static int decide_set_mode(const json_t *state, const json_t *cmd,
			   struct cora_ctx *ctx, struct cora_emit *out)
{
	return set_attr(true, state, cmd, ctx, out);
}

static int decide_set_mtime(const json_t *state, const json_t *cmd,
			    struct cora_ctx *ctx, struct cora_emit *out)
{
	return set_attr(false, state, cmd, ctx, out);
}

/* Decoded length of strict base64 (RFC 4648 section 4, padded), or -1. */
static long long base64_decoded_len(const char *s)
{
	size_t n = strlen(s), i, pad = 0;

	if (n % 4)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	return (long long)(n / 4 * 3 - pad);
}

/* user.* only; user.cora.* is the catalog's own (DESIGN 1). */
static int xattr_name(const char **name, const json_t *cmd)
{
	size_t n;
	int rc;

	if ((rc = cora_arg_str(name, cmd, "name", "extended attribute name")))
		return rc;
	n = strlen(*name);
	if (n > DS_XATTR_NAME_MAX || !cora_utf8_valid(*name, n))
		return cora_error_set(CORA_EINVALID,
				      "extended attribute name must be 1 to "
				      "255 bytes of UTF-8 text");
	if (strncmp(*name, "user.", 5) != 0 || n == 5)
		return cora_error_set(CORA_EINVALID,
				      "extended attribute name '%s' must be "
				      "user.<name>", *name);
	if (strncmp(*name, "user.cora.", 10) == 0)
		return cora_error_set(CORA_EPERM,
				      "extended attribute '%s' is reserved",
				      *name);
	return 0;
}

static int decide_set_xattr(const json_t *state, const json_t *cmd,
			    struct cora_ctx *ctx, struct cora_emit *out)
{
	struct cora_node_info info;
	const char *path, *name, *value;
	long long len;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = tree_writable(state, ctx)) ||
	    (rc = arg_path(&path, cmd, "path", true)) ||
	    (rc = xattr_name(&name, cmd)) ||
	    (rc = cora_arg_str(&value, cmd, "value",
			  "extended attribute value")))
		return rc;
	len = base64_decoded_len(value);
	if (len < 0)
		return cora_error_set(CORA_EINVALID,
				      "extended attribute value is not "
				      "base64 text");
	if (len > DS_XATTR_VALUE_MAX)
		return cora_error_set(CORA_EINVALID,
				      "extended attribute value is %lld "
				      "bytes: at most 65536", len);
	if ((rc = need_node(ctx, state, path, &info)))
		return rc;
	p = tree_payload(ctx, path, &bad);
	cora_json_put(p, "name", json_string(name), &bad);
	cora_json_put(p, "value", json_string(value), &bad);
	return cora_emit_by(out, "DatasetXattrSet", p, "set_by", ctx, bad);
}

static int decide_remove_xattr(const json_t *state, const json_t *cmd,
			       struct cora_ctx *ctx, struct cora_emit *out)
{
	struct cora_node_info info;
	const char *path, *name;
	int rc;

	if ((rc = tree_writable(state, ctx)) ||
	    (rc = arg_path(&path, cmd, "path", true)) ||
	    (rc = xattr_name(&name, cmd)) ||
	    (rc = need_node(ctx, state, path, &info)))
		return rc;
	return emit_tree(out, "DatasetXattrRemoved", "removed_by", ctx, path,
			 "name", json_string(name));
}

/* ---- promote, demote, discard ----------------------------------------- */

struct tree_acc {
	struct cora_tree_entry *entries;
	size_t n, cap;
	int64_t bytes;
};

static int collect_file(void *arg, const char *path,
			const struct cora_node_info *info)
{
	struct tree_acc *acc = arg;
	struct cora_tree_entry *e;

	if (acc->n == acc->cap) {
		size_t cap = acc->cap ? 2 * acc->cap : 64;
		e = realloc(acc->entries, cap * sizeof(*e));
		if (!e)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		acc->entries = e;
		acc->cap = cap;
	}
	e = &acc->entries[acc->n];
	/* Both strings are borrowed from the caller's iteration: copy. */
	e->path = strdup(path);
	e->sha256 = strdup(info->sha256);
	if (!e->path || !e->sha256) {
		free((char *)e->path);
		free((char *)e->sha256);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	acc->n++;
	if (info->size < 0 || acc->bytes > INT64_MAX - info->size)
		return cora_error_set(CORA_ECORRUPT,
				      "file '%s' has an impossible size", path);
	acc->bytes += info->size;
	return 0;
}

static void tree_acc_release(struct tree_acc *acc)
{
	size_t i;

	for (i = 0; i < acc->n; i++) {
		free((char *)acc->entries[i].path);
		free((char *)acc->entries[i].sha256);
	}
	free(acc->entries);
}

/* Guards 4-7 of reference 3.2, against the catalog as it is now. */
static int promote_guards(const json_t *state, struct cora_ctx *ctx)
{
	const char *label = cora_label(state), *run_id, *kind;
	const json_t *run, *input, *e;
	size_t i;

	run_id = cora_json_str(state, "producing_run_id");
	if (run_id) {
		if (ctx->lookup(ctx, "Run", run_id, &run) != 0)
			return cora_error_set(CORA_ENOTFOUND,
					      "cannot promote dataset '%s': "
					      "producing run '%s' does not "
					      "exist", label, run_id);
		if (!cora_json_is(run, "status", "Completed"))
			return cora_error_set(CORA_ESTATE,
				"cannot promote dataset '%s': producing run "
				"'%s' did not complete (it is %s)", label,
				cora_json_str(run, "slug") ?
				cora_json_str(run, "slug") : run_id,
				cora_json_str(run, "status") ?
				cora_json_str(run, "status") : "unknown");
	}
	json_array_foreach(json_object_get(state, "derived_from"), i, e) {
		const char *id = json_string_value(e);
		if (ctx->lookup(ctx, "Dataset", id, &input) != 0)
			return cora_error_set(CORA_ENOTFOUND,
					      "cannot promote dataset '%s': "
					      "input dataset '%s' does not "
					      "exist", label, id);
		if (!cora_json_is(input, "intent", "Production") ||
		    !cora_json_is(input, "status", "Registered"))
			return cora_error_set(CORA_ESTATE,
				"cannot promote dataset '%s': input dataset "
				"'%s' is %s, not Production: promote inputs "
				"first", label, cora_label(input),
				cora_json_is(input, "status",
					     "Discarded") ? "Discarded" :
				cora_json_str(input, "intent"));
	}
	kind = cora_json_str(state, "producing_actuation_kind");
	if (kind && (strcmp(kind, "Simulated") == 0 ||
		     strcmp(kind, "Hybrid") == 0))
		return cora_error_set(CORA_ESTATE,
				      "cannot promote dataset '%s': it was "
				      "produced by a %s actuation", label,
				      kind);
	if (cora_json_str(state, "producing_procedure_id") && !kind)
		return cora_error_set(CORA_ESTATE,
				      "cannot promote dataset '%s': the "
				      "actuation kind of its producing "
				      "procedure is unknown", label);
	return 0;
}

/* The intent axis: `verb` takes a dataset that is not Discarded from
 * intent `from` to `to`; `tail` ends the message for any other intent. */
static int need_intent(const json_t *state, const struct cora_ctx *ctx,
		       const char *verb, const char *from, const char *to,
		       const char *tail)
{
	const char *label;
	int rc;

	if ((rc = need_state(state, ctx)))
		return rc;
	label = cora_label(state);
	if (cora_json_is(state, "status", "Discarded"))
		return cora_error_set(CORA_ESTATE,
				      "cannot %s dataset '%s': it is "
				      "Discarded", verb, label);
	if (cora_json_is(state, "intent", to))
		return cora_error_set(CORA_ESTATE,
				      "cannot %s dataset '%s': it is "
				      "already %s", verb, label, to);
	if (!cora_json_is(state, "intent", from))
		return cora_error_set(CORA_ESTATE,
				      "cannot %s dataset '%s': it is %s%s",
				      verb, label,
				      cora_json_str(state, "intent"), tail);
	return 0;
}

static int decide_promote(const json_t *state, const json_t *cmd,
			  struct cora_ctx *ctx, struct cora_emit *out)
{
	struct tree_acc acc = { 0 };
	char hex[CORA_SHA256_HEXLEN + 1];
	const char *label, *in_reason;
	char *reason = NULL;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = need_intent(state, ctx, "promote", "Trial", "Production",
			      "")))
		return rc;
	label = cora_label(state);
	if ((rc = promote_guards(state, ctx)) ||
	    (rc = cora_arg_str(&in_reason, cmd, "reason", "reason")) ||
	    (rc = cora_text_reason(&reason, in_reason)))
		return rc;

	rc = ctx->files(ctx, cora_json_str(state, "id"), collect_file, &acc);
	if (rc == 0 && acc.n == 0)
		rc = cora_error_set(CORA_ESTATE,
				    "cannot promote dataset '%s': it has no "
				    "files", label);
	if (rc == 0)
		rc = cora_sha256_tree(hex, acc.entries, acc.n);
	if (rc)
		goto out;
	p = cora_payload_new(ctx, "dataset_id");
	cora_json_put(p, "reason", json_string(reason), &bad);
	cora_json_put(p, "checksum", json_pack("{s:s, s:s}", "algorithm",
				     "sha256-tree", "value", hex), &bad);
	cora_json_put(p, "byte_size", json_integer(acc.bytes), &bad);
	cora_json_put(p, "file_count", json_integer((json_int_t)acc.n), &bad);
	rc = cora_emit_by(out, "DatasetPromoted", p, "promoted_by", ctx, bad);
out:
	tree_acc_release(&acc);
	free(reason);
	return rc;
}

static int emit_reason_event(const json_t *cmd, struct cora_ctx *ctx,
			     struct cora_emit *out, const char *type,
			     const char *by_key)
{
	const char *in_reason;
	char *reason;
	bool bad = false;
	json_t *p;
	int rc;

	if ((rc = cora_arg_str(&in_reason, cmd, "reason", "reason")) ||
	    (rc = cora_text_reason(&reason, in_reason)))
		return rc;
	p = cora_payload_new(ctx, "dataset_id");
	cora_json_put(p, "reason", json_string(reason), &bad);
	free(reason);
	return cora_emit_by(out, type, p, by_key, ctx, bad);
}

static int decide_demote(const json_t *state, const json_t *cmd,
			 struct cora_ctx *ctx, struct cora_emit *out)
{
	int rc;

	if ((rc = need_intent(state, ctx, "demote", "Production",
			      "Retracted",
			      ", not Production (discard it instead)")))
		return rc;
	return emit_reason_event(cmd, ctx, out, "DatasetDemoted",
				 "demoted_by");
}

static int decide_discard(const json_t *state, const json_t *cmd,
			  struct cora_ctx *ctx, struct cora_emit *out)
{
	int rc;

	if ((rc = need_state(state, ctx)))
		return rc;
	if (!cora_json_is(state, "status", "Registered"))
		return cora_error_set(CORA_ESTATE,
				      "cannot discard dataset '%s': it is "
				      "already Discarded", cora_label(state));
	return emit_reason_event(cmd, ctx, out, "DatasetDiscarded",
				 "discarded_by");
}

/* ---- command table ---------------------------------------------------- */

#define CMD(n, g, fn) { .name = (n), .stream_type = "Dataset", .genesis = (g), \
	.decide = (fn) }

const struct cora_command_def cora_dataset_commands[] = {
	CMD("dataset.register", true, decide_register),
	CMD("dataset.put_file", false, decide_put_file),
	CMD("dataset.add_symlink", false, decide_add_symlink),
	CMD("dataset.move", false, decide_move),
	CMD("dataset.remove", false, decide_remove),
	CMD("dataset.add_folder", false, decide_add_folder),
	CMD("dataset.remove_folder", false, decide_remove_folder),
	CMD("dataset.set_mode", false, decide_set_mode),
	CMD("dataset.set_owner", false, decide_set_owner),
	CMD("dataset.set_mtime", false, decide_set_mtime),
	CMD("dataset.set_xattr", false, decide_set_xattr),
	CMD("dataset.remove_xattr", false, decide_remove_xattr),
	CMD("dataset.promote", false, decide_promote),
	CMD("dataset.demote", false, decide_demote),
	CMD("dataset.discard", false, decide_discard),
	{ .name = NULL },
};
