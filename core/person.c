/*
 * person.c: the persons table (see person.h).
 */
#include "core/person.h"

#include "core/error.h"
#include "core/text.h"
#include "core/uuid.h"

#include <pwd.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct clean {
	char *name, *orcid, *affiliation, *ror, *email;
};

static void clean_release(struct clean *c)
{
	free(c->name);
	free(c->orcid);
	free(c->affiliation);
	free(c->ror);
	free(c->email);
}

static int validate(struct clean *c, const struct cora_person *p)
{
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (p->name)
		rc = cora_text_bounded(&c->name, p->name, 1, 200, "person name");
	if (rc == 0 && p->orcid)
		rc = cora_text_orcid(&c->orcid, p->orcid);
	if (rc == 0 && p->affiliation)
		rc = cora_text_bounded(&c->affiliation, p->affiliation, 1, 200,
				       "affiliation");
	if (rc == 0 && p->affiliation_ror)
		rc = cora_text_ror(&c->ror, p->affiliation_ror);
	if (rc == 0 && p->email) {
		rc = cora_text_bounded(&c->email, p->email, 3, 255, "e-mail");
		if (rc == 0 && !strchr(c->email, '@'))
			rc = cora_error_set(CORA_EINVALID,
					    "'%s' is not an e-mail address",
					    c->email);
	}
	if (rc)
		clean_release(c);
	return rc;
}

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

int cora_person_add(struct cora_catalog *cat, const struct cora_person *p,
		    char id_out[37])
{
	struct clean c;
	sqlite3_stmt *s;
	char id[37];
	int rc;

	rc = cora_text_slug(p->slug, "person");
	if (rc)
		return rc;
	if (!p->name)
		return cora_error_set(CORA_EINVALID, "person '%s' needs a name",
				      p->slug);
	rc = validate(&c, p);
	if (rc)
		return rc;
	if (p->unix_user) {
		struct passwd *pw = getpwnam(p->unix_user);
		if (!pw) {
			clean_release(&c);
			return cora_error_set(CORA_ENOTFOUND,
					      "unix user '%s' does not exist",
					      p->unix_user);
		}
		cora_actor_for_uid(id, pw->pw_uid);
	} else {
		cora_uuid_v7_str(id);
	}
	s = cora_stmt(cat, "INSERT INTO persons(id, slug, name, orcid,"
		      " affiliation, affiliation_ror, email, unix_user)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	if (!s) {
		clean_release(&c);
		return cora_error_code();
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->slug, -1, SQLITE_STATIC);
	bind_opt(s, 3, c.name);
	bind_opt(s, 4, c.orcid);
	bind_opt(s, 5, c.affiliation);
	bind_opt(s, 6, c.ror);
	bind_opt(s, 7, c.email);
	bind_opt(s, 8, p->unix_user);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	clean_release(&c);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return cora_error_set(CORA_EEXISTS,
				      "person '%s' already exists (or that "
				      "unix user has a profile)", p->slug);
	if (rc != SQLITE_DONE)
		return cora_sqlite_error(cat, rc, "adding a person");
	if (id_out)
		memcpy(id_out, id, 37);
	return 0;
}

int cora_person_update(struct cora_catalog *cat, const char *ref,
		       const struct cora_person *p)
{
	struct clean c;
	sqlite3_stmt *s;
	int rc;

	rc = validate(&c, p);
	if (rc)
		return rc;
	s = cora_stmt(cat, "UPDATE persons SET name = coalesce(?2, name),"
		      " orcid = coalesce(?3, orcid),"
		      " affiliation = coalesce(?4, affiliation),"
		      " affiliation_ror = coalesce(?5, affiliation_ror),"
		      " email = coalesce(?6, email)"
		      " WHERE id = ?1 OR slug = ?1");
	if (!s) {
		clean_release(&c);
		return cora_error_code();
	}
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	bind_opt(s, 2, c.name);
	bind_opt(s, 3, c.orcid);
	bind_opt(s, 4, c.affiliation);
	bind_opt(s, 5, c.ror);
	bind_opt(s, 6, c.email);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	clean_release(&c);
	if (rc != SQLITE_DONE)
		return cora_sqlite_error(cat, rc, "updating a person");
	if (sqlite3_changes(cat->db) == 0)
		return cora_error_set(CORA_ENOTFOUND,
				      "person '%s' does not exist", ref);
	return 0;
}

int cora_person_erase(struct cora_catalog *cat, const char *ref)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"UPDATE persons SET name = '(erased)', orcid = NULL,"
		" affiliation = NULL, affiliation_ror = NULL, email = NULL,"
		" unix_user = NULL WHERE id = ?1 OR slug = ?1");
	int rc;

	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return cora_sqlite_error(cat, rc, "erasing a person");
	if (sqlite3_changes(cat->db) == 0)
		return cora_error_set(CORA_ENOTFOUND,
				      "person '%s' does not exist", ref);
	return 0;
}

static json_t *row_json(sqlite3_stmt *s)
{
	static const char *const cols[] = {
		"id", "slug", "name", "orcid", "affiliation",
		"affiliation_ror", "email", "unix_user",
	};
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		const unsigned char *v = sqlite3_column_text(s, (int)i);
		if (v)
			json_object_set_new(o, cols[i],
					    json_string((const char *)v));
	}
	return o;
}

#define PERSON_COLS "id, slug, name, orcid, affiliation, affiliation_ror," \
		    " email, unix_user"

int cora_person_get(struct cora_catalog *cat, const char *ref, json_t **out)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT " PERSON_COLS
		" FROM persons WHERE id = ?1 OR slug = ?1");
	int rc;

	*out = NULL;
	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = row_json(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return cora_error_set(CORA_ENOTFOUND,
				      "person '%s' does not exist", ref);
	if (rc != SQLITE_ROW)
		return cora_sqlite_error(cat, rc, "reading a person");
	return 0;
}

int cora_person_list(struct cora_catalog *cat, json_t **out)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT " PERSON_COLS
		" FROM persons ORDER BY slug");
	int rc;

	*out = json_array();
	if (!s)
		return cora_error_code();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(*out, row_json(s));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return cora_sqlite_error(cat, rc, "listing persons");
	return 0;
}
