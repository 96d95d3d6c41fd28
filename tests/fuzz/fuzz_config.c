/*
 * fuzz_config.c: libFuzzer target for cora_config_parse (config.h).
 *
 * Any bytes give an object of strings or CORA_EINVALID, never a crash;
 * a parsed config written back as "key = value" lines parses to the same
 * object (what cora_config_save relies on).
 */
#include "core/config.h"
#include "core/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *cfg = NULL, *again = NULL, *v;
	const char *key;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	rc = cora_config_parse(&cfg, (const char *)data, size);
	if (rc != 0) {
		if (rc != CORA_EINVALID && rc != CORA_ENOMEM)
			abort();
		if (cfg)
			abort();
		return 0;
	}
	if (!json_is_object(cfg))
		abort();
	f = open_memstream(&text, &len);
	if (!f)
		abort();
	json_object_foreach(cfg, key, v) {
		if (!json_is_string(v))
			abort();
		fprintf(f, "%s = %s\n", key, json_string_value(v));
	}
	fclose(f);
	rc = cora_config_parse(&again, text, len);
	if (rc != 0 || !json_equal(cfg, again)) {
		fprintf(stderr, "round trip failed (%d): %s\n", rc,
			cora_error_last());
		abort();
	}
	json_decref(again);
	json_decref(cfg);
	free(text);
	return 0;
}
