/*
 * schema.h: the generated files (standards output).
 *
 * The renderers of DataCite 4.6 XML, PIDINST JSON and RO-Crate 1.2 land
 * with the standards issue; until then schema_version() lets the layers
 * above link against this library.
 */
#ifndef CORA_SCHEMA_H
#define CORA_SCHEMA_H

const char *cora_schema_version(void);

#endif
