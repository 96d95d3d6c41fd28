/*
 * cora.c: the `cora` command: global options, dispatch over the verb
 * table, and the generic runner that turns a verb row into a core command.
 */
#include "cli/cli.h"

#include "core/command.h"
#include "core/error.h"
#include "core/person.h"
#include "core/projection.h"
#include "core/uuid.h"
#include "store/store.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *catalog_default(void)
{
	const char *env = getenv("CORA_CATALOG");

	return env && *env ? env : NULL;
}

static void usage_all(FILE *f)
{
	const struct verb_spec *v;
	const char *last = "";

	fprintf(f,
		"usage: cora [-C CATALOG] [--json] [-q] COMMAND [ARGS...]\n"
		"\n"
		"  -C CATALOG   the catalog folder (default: $CORA_CATALOG)\n"
		"  --json       machine-readable output\n"
		"  -q           no progress bars or chatter\n"
		"\n"
		"commands:\n");
	for (v = cli_verbs; v->noun; v++) {
		if (strcmp(v->noun, last) != 0 && v->verb)
			fprintf(f, "  %s\n", v->noun);
		if (v->verb)
			fprintf(f, "      %-20s %s\n", v->verb, v->summary);
		else
			fprintf(f, "  %-24s %s\n", v->noun, v->summary);
		last = v->noun;
	}
	fprintf(f, "\n'cora COMMAND [VERB] --help' shows the options of one "
		"command.\n");
}

void cli_usage(FILE *f, const struct verb_spec *spec)
{
	const struct opt_spec *o;
	size_t i;

	fprintf(f, "usage: cora %s%s%s", spec->noun, spec->verb ? " " : "",
		spec->verb ? spec->verb : "");
	for (i = 0; i < 4 && spec->args[i]; i++) {
		const char *a = spec->args[i];
		if (strcmp(a, ARG_TARGET) == 0)
			a = spec->noun;
		fprintf(f, " ");
		for (; *a; a++)
			fputc(*a == '_' ? '-' : (*a >= 'a' && *a <= 'z') ?
			      *a - 32 : *a, f);
	}
	fprintf(f, "%s\n  %s\n", spec->opts[0].flag ? " [OPTIONS]" : "",
		spec->summary);
	for (o = spec->opts; o->flag; o++)
		fprintf(f, "  --%-16s %s%s\n", o->flag, o->help,
			o->kind == OPT_LIST || o->kind == OPT_OBJLIST ?
			" (may repeat)" : "");
}

int cli_fail(struct cli *cli, int rc)
{
	const char *msg = cora_error_last();

	if (!*msg)
		msg = cora_error_name(rc);
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:s, s:i}", "error", msg,
				      "kind", cora_error_name(rc), "code", rc);
		cli_print_json(o);
		json_decref(o);
	}
	fprintf(stderr, "cora: %s\n", msg);
	return 1;
}

/* "k=v;k=v" or a JSON object. */
static int parse_obj(const char *flag, const char *text, json_t **out)
{
	json_error_t jerr;
	char *copy, *item, *save = NULL;

	*out = NULL;
	if (text[0] == '{') {
		*out = json_loads(text, 0, &jerr);
		if (!*out || !json_is_object(*out)) {
			json_decref(*out);
			*out = NULL;
			fprintf(stderr, "cora: --%s: not a JSON object: %s\n",
				flag, jerr.text);
			return 2;
		}
		return 0;
	}
	copy = strdup(text);
	*out = json_object();
	for (item = strtok_r(copy, ";", &save); item;
	     item = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(item, '=');
		if (!eq) {
			fprintf(stderr, "cora: --%s: expected key=value, got "
				"'%s'\n", flag, item);
			free(copy);
			json_decref(*out);
			*out = NULL;
			return 2;
		}
		*eq = '\0';
		json_object_set_new(*out, item, json_string(eq + 1));
	}
	free(copy);
	return 0;
}

static int set_option(const struct opt_spec *o, const char *val, json_t *cmd)
{
	json_t *v = NULL, *list;
	json_error_t jerr;
	char *end;
	int rc;

	switch (o->kind) {
	case OPT_STR:
		v = json_string(val);
		if (!v) {
			fprintf(stderr, "cora: --%s: not valid UTF-8\n", o->flag);
			return 2;
		}
		break;
	case OPT_INT:
	case OPT_MODE: {
		long long n = strtoll(val, &end, o->kind == OPT_MODE ? 8 : 10);
		if (!*val || *end) {
			fprintf(stderr, "cora: --%s: '%s' is not a%s number\n",
				o->flag, val, o->kind == OPT_MODE ?
				"n octal" : "");
			return 2;
		}
		v = json_integer(n);
		break;
	}
	case OPT_JSON:
		v = json_loads(val, JSON_DECODE_ANY, &jerr);
		if (!v) {
			fprintf(stderr, "cora: --%s: bad JSON: %s\n", o->flag,
				jerr.text);
			return 2;
		}
		break;
	case OPT_OBJ:
	case OPT_OBJLIST:
		rc = parse_obj(o->flag, val, &v);
		if (rc)
			return rc;
		break;
	case OPT_LIST:
		v = json_string(val);
		break;
	case OPT_FLAG:
		v = json_true();
		break;
	case OPT_END:
		return 2;
	}
	if (o->kind == OPT_LIST || o->kind == OPT_OBJLIST) {
		list = json_object_get(cmd, o->key);
		if (!list) {
			list = json_array();
			json_object_set_new(cmd, o->key, list);
		}
		json_array_append_new(list, v);
		return 0;
	}
	json_object_set_new(cmd, o->key, v);
	return 0;
}

int cli_parse(struct cli *cli, const struct verb_spec *spec, int argc,
	      char **argv, json_t *cmd, const char **target)
{
	struct option longopts[20];
	size_t n = 0, i, pos = 0;
	int c, idx, rc;

	for (i = 0; spec->opts[i].flag; i++) {
		longopts[n].name = spec->opts[i].flag;
		longopts[n].has_arg = spec->opts[i].kind == OPT_FLAG ?
				      no_argument : required_argument;
		longopts[n].flag = NULL;
		longopts[n].val = 1000 + (int)i;
		n++;
	}
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	*target = NULL;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		if (c == 'h') {
			cli_usage(stdout, spec);
			return -1;
		}
		if (c < 1000) {
			fprintf(stderr, "cora %s %s: unknown or incomplete "
				"option '%s'\n", spec->noun,
				spec->verb ? spec->verb : "",
				argv[optind - 1]);
			cli_usage(stderr, spec);
			return 2;
		}
		rc = set_option(&spec->opts[c - 1000], optarg, cmd);
		if (rc)
			return rc;
	}
	for (; optind < argc; optind++) {
		const char *key = pos < 4 ? spec->args[pos] : NULL;
		if (!key) {
			fprintf(stderr, "cora %s %s: unexpected argument "
				"'%s'\n", spec->noun, spec->verb ? spec->verb :
				"", argv[optind]);
			cli_usage(stderr, spec);
			return 2;
		}
		if (strcmp(key, ARG_TARGET) == 0) {
			*target = argv[optind];
		} else {
			json_t *v = json_string(argv[optind]);
			if (!v) {
				fprintf(stderr, "cora: '%s' is not valid "
					"UTF-8\n", argv[optind]);
				return 2;
			}
			json_object_set_new(cmd, key, v);
		}
		pos++;
	}
	for (; pos < 4 && spec->args[pos]; pos++) {
		fprintf(stderr, "cora %s %s: missing %s\n", spec->noun,
			spec->verb ? spec->verb : "",
			strcmp(spec->args[pos], ARG_TARGET) == 0 ?
			spec->noun : spec->args[pos]);
		cli_usage(stderr, spec);
		return 2;
	}
	(void)cli;
	return 0;
}

/* Bundle creators may be named by person slug: they become the ids the
 * events carry (persons live outside the log, core/person.h). */
static int resolve_persons(struct cli *cli, json_t *cmd)
{
	json_t *list = json_object_get(cmd, "creators"), *v, *p;
	size_t i;

	json_array_foreach(list, i, v) {
		if (!json_is_string(v) || cora_uuid_valid(json_string_value(v)))
			continue;
		if (cora_person_get(cli->cat, json_string_value(v), &p) != 0)
			return cora_error_set(CORA_ENOTFOUND, "person '%s' does "
					      "not exist (add it with 'cora "
					      "person add')", json_string_value(v));
		json_array_set_new(list, i, json_string(cora_json_str(p, "id")));
		json_decref(p);
	}
	return 0;
}

/* Runs a generic verb row. */
static int run_verb(struct cli *cli, int argc, char **argv)
{
	const struct verb_spec *spec = cli->spec;
	struct cora_result res;
	const char *target;
	json_t *cmd = json_object(), *state = NULL;
	int rc;

	rc = cli_parse(cli, spec, argc, argv, cmd, &target);
	if (rc) {
		json_decref(cmd);
		return rc < 0 ? 0 : rc;
	}
	rc = resolve_persons(cli, cmd);
	if (rc == 0)
		rc = cora_command(cli->cat, spec->command, target, cmd, &res);
	json_decref(cmd);
	if (rc)
		return cli_fail(cli, rc);
	if (cli->json) {
		json_t *out;
		cora_entity_get(cli->cat, NULL, res.stream_id, &state, NULL, NULL);
		out = json_pack("{s:s, s:I, s:I, s:o*}", "id", res.stream_id,
				"version", (json_int_t)res.version, "events",
				(json_int_t)res.events, "state", state);
		cli_print_json(out);
		json_decref(out);
	} else if (!cli->quiet) {
		const char *name = target;
		if (!name) {
			cora_entity_get(cli->cat, NULL, res.stream_id, &state, NULL, NULL);
			name = cora_json_str(state, "slug");
			if (!name)
				name = cora_json_str(state, "name");
		}
		if (res.events == 0)
			printf("%s '%s': nothing to change\n", spec->noun,
			       name ? name : res.stream_id);
		else
			printf("%s '%s'\n", spec->done,
			       name ? name : res.stream_id);
		json_decref(state);
	}
	return 0;
}

static const struct verb_spec *find_verb(const char *noun, const char *verb,
					 bool *noun_known)
{
	const struct verb_spec *v;

	*noun_known = false;
	for (v = cli_verbs; v->noun; v++) {
		if (strcmp(v->noun, noun) != 0)
			continue;
		*noun_known = true;
		if (!v->verb || (verb && strcmp(v->verb, verb) == 0))
			return v;
	}
	return NULL;
}

static void usage_noun(FILE *f, const char *noun)
{
	const struct verb_spec *v;

	fprintf(f, "usage: cora %s VERB [ARGS...]\n\nverbs:\n", noun);
	for (v = cli_verbs; v->noun; v++)
		if (strcmp(v->noun, noun) == 0 && v->verb)
			fprintf(f, "  %-20s %s\n", v->verb, v->summary);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { 0 };
	const struct verb_spec *spec;
	bool noun_known;
	char prog[128];
	int c, rc, skip;
	unsigned oflags = 0;

	cora_store_register_all();
	cli.catalog_path = catalog_default();
	cli.tty = isatty(STDERR_FILENO);
	/* --json and -q may also come after the command */
	for (int i = 1, j = 1; i <= argc; i++) {
		if (i < argc && strcmp(argv[i], "--") == 0) {
			while (i <= argc)
				argv[j++] = argv[i++];
			argc = j - 1;
			break;
		}
		if (i < argc && strcmp(argv[i], "--json") == 0) {
			cli.json = true;
			continue;
		}
		argv[j++] = argv[i];
		if (i == argc)
			argc = j - 1;
	}
	while ((c = getopt_long(argc, argv, "+C:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'C':
			cli.catalog_path = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'q':
			cli.quiet = true;
			break;
		case 'h':
			usage_all(stdout);
			return 0;
		case 'V':
			printf("cora %s\n", CORA_VERSION);
			return 0;
		default:
			usage_all(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage_all(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "help") == 0) {
		usage_all(stdout);
		return 0;
	}
	spec = find_verb(argv[optind],
			 optind + 1 < argc ? argv[optind + 1] : NULL,
			 &noun_known);
	if (!spec) {
		if (!noun_known) {
			fprintf(stderr, "cora: '%s' is not a cora command; see "
				"'cora --help'\n", argv[optind]);
			return 2;
		}
		if (optind + 1 < argc && strcmp(argv[optind + 1], "--help") &&
		    strcmp(argv[optind + 1], "-h"))
			fprintf(stderr, "cora %s: unknown verb '%s'\n",
				argv[optind], argv[optind + 1]);
		usage_noun(optind + 1 < argc ? stdout : stderr, argv[optind]);
		return optind + 1 < argc && (!strcmp(argv[optind + 1], "--help")
			|| !strcmp(argv[optind + 1], "-h")) ? 0 : 2;
	}
	skip = spec->verb ? 1 : 0;
	snprintf(prog, sizeof(prog), "cora %s%s%s", spec->noun,
		 spec->verb ? " " : "", spec->verb ? spec->verb : "");
	cli.prog = prog;
	cli.spec = spec;

	if (spec->flags & NEED_CATALOG) {
		bool wants_help = false;
		for (int i = optind + 1 + skip; i < argc; i++)
			if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
				wants_help = true;
		if (!wants_help) {
			if (!cli.catalog_path) {
				fprintf(stderr, "cora: which catalog? Use -C "
					"CATALOG or set CORA_CATALOG\n");
				return 2;
			}
			if (!(spec->flags & NEED_WRITE))
				oflags |= CORA_OPEN_READONLY;
			if (spec->flags & NO_BLOBS)
				oflags |= CORA_OPEN_NO_BLOBS;
			rc = cora_catalog_open(&cli.cat, cli.catalog_path,
					       oflags);
			if (rc)
				return cli_fail(&cli, rc);
		}
	}
	/* Handlers see argv[0] = the verb (or noun), like a program. */
	rc = spec->handler ? spec->handler(&cli, argc - optind - skip,
					   argv + optind + skip)
			   : run_verb(&cli, argc - optind - skip,
				      argv + optind + skip);
	cora_catalog_free(cli.cat);
	return rc;
}
