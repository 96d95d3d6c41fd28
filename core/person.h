/*
 * person.h: person profiles.
 *
 * Personal data never goes into events (reference 1.3): events carry
 * actor ids, and the name, ORCID, affiliation and e-mail behind an id live
 * in the mutable `persons` table, which `cora person erase` empties for
 * one person without touching the log.  A person's id is the actor id of
 * a unix user when one is named (so events recorded for that user are
 * attributed to the person), else a fresh UUIDv7.
 */
#ifndef CORA_PERSON_H
#define CORA_PERSON_H

#include "core/catalog.h"

struct cora_person {
	const char *slug;
	const char *name;
	const char *orcid;            /* validated, stored as a URL */
	const char *affiliation;
	const char *affiliation_ror;  /* validated, stored as a URL */
	const char *email;
	const char *unix_user;
};

/* Adds a person (slug unique).  id_out (may be NULL) gets the id. */
int cora_person_add(struct cora_catalog *cat, const struct cora_person *p,
		    char id_out[37]);

/* Changes the non-NULL fields of person `ref` (id or slug). */
int cora_person_update(struct cora_catalog *cat, const char *ref,
		       const struct cora_person *p);

/* Erases a person's personal data; the id stays in the log. */
int cora_person_erase(struct cora_catalog *cat, const char *ref);

/* The profile of an id or slug as JSON {id, slug, name, orcid, ...};
 * CORA_ENOTFOUND when there is none. */
int cora_person_get(struct cora_catalog *cat, const char *ref, json_t **out);

/* All persons, sorted by slug, as a JSON array. */
int cora_person_list(struct cora_catalog *cat, json_t **out);

#endif
