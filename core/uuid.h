/*
 * uuid.h: the identifiers of the catalog.
 *
 * Aggregate and event ids are UUIDv7 (RFC 9562: 48-bit Unix milliseconds,
 * then random bits), generated in the handler, never by the database, so a
 * replay is deterministic.  Model, Family and actor ids are UUIDv5 (SHA-1
 * name-based) in the frozen namespaces of the domain reference (1.2).
 *
 * Ids travel as their canonical lowercase text form (36 characters) in
 * events, projections and files; struct cora_uuid is the 16 raw bytes.
 */
#ifndef CORA_UUID_H
#define CORA_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CORA_UUID_STRLEN 36

struct cora_uuid {
	uint8_t b[16];
};

/* uuid5(NAMESPACE_DNS, 'cora.family' | 'cora.role' | 'cora.model'), and
 * our own namespace for actors: uuid5(NAMESPACE_DNS, 'cora.actor'). */
extern const char CORA_NS_FAMILY[];
extern const char CORA_NS_ROLE[];
extern const char CORA_NS_MODEL[];
extern const char CORA_NS_ACTOR[];
extern const char CORA_NS_DNS[];

/* A fresh UUIDv7.  Ids made by one process are strictly increasing. */
void cora_uuid_v7(struct cora_uuid *out);

/* uuid5(ns, name bytes). */
void cora_uuid_v5(struct cora_uuid *out, const struct cora_uuid *ns,
		  const void *name, size_t len);

/* Canonical text form into buf (at least 37 bytes). */
char *cora_uuid_format(char buf[CORA_UUID_STRLEN + 1],
		       const struct cora_uuid *u);

/* Parses the canonical form (either case); returns 0 or CORA_EINVALID. */
int cora_uuid_parse(struct cora_uuid *out, const char *s);

/* True when s is a canonical lowercase UUID. */
bool cora_uuid_valid(const char *s);

/* Convenience: a fresh v7 id as text. */
char *cora_uuid_v7_str(char buf[CORA_UUID_STRLEN + 1]);

/* uuid5 over a text namespace and a text name, as text. */
char *cora_uuid_v5_str(char buf[CORA_UUID_STRLEN + 1], const char *ns,
		       const char *name, size_t len);

#endif
