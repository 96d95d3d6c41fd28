/*
 * render.c: dispatch of cora_render().
 *
 * Interim renderers: until the DataCite, PIDINST and RO-Crate writers
 * land (standards issue), every document is the entity's summary as
 * canonical JSON, so the mount has real, deterministic bytes to serve.
 */
#include "schema/render.h"

#include "core/error.h"
#include "core/projection.h"

#include <stdlib.h>
#include <string.h>

const char *cora_doc_name(enum cora_doc_kind kind)
{
	static const char *const names[] = {
		[CORA_DOC_DATACITE] = "datacite.xml",
		[CORA_DOC_PIDINST] = "pidinst.json",
		[CORA_DOC_ROCRATE] = "ro-crate-metadata.json",
		[CORA_DOC_PREVIEW] = "ro-crate-preview.html",
	};

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ?
	       names[kind] : "";
}

int cora_render(struct cora_catalog *cat, enum cora_doc_kind kind,
		const char *stream_id, char **out, size_t *len)
{
	json_t *state;
	char *text;
	int rc;

	*out = NULL;
	*len = 0;
	rc = cora_entity_get(cat, NULL, stream_id, &state, NULL, NULL);
	if (rc)
		return rc;
	text = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(state);
	if (!text)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	*len = strlen(text);
	text[(*len)++] = '\n'; /* json_dumps leaves room: replace the NUL */
	(void)kind;
	*out = text;
	return 0;
}
