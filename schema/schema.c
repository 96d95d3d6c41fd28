/*
 * schema.c: versions of the standards the generated files follow.
 */
#include "schema/schema.h"

const char *cora_schema_version(void)
{
	return "DataCite 4.6; RO-Crate 1.2; Process Run Crate 0.5";
}
