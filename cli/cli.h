/*
 * cli.h: what the parts of the `cora` command share.
 *
 * `cora` is git-style: `cora [-C CATALOG] [--json] NOUN [VERB] ARGS...`.
 * Most verbs are rows of the verb table (verbs.c): a core command, the
 * positional arguments it takes, and its options, each mapped to a key of
 * the command's JSON; one generic runner (run_verb in cora.c) parses,
 * calls cora_command() and reports.  Verbs that do more (ingest, verify,
 * export, log, fsck, gc, demo) have a handler of their own.
 */
#ifndef CORA_CLI_H
#define CORA_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/catalog.h"

enum cli_flags {
	NEED_CATALOG = 1 << 0,   /* open the catalog before the handler */
	NEED_WRITE = 1 << 1,     /* open it read-write */
	NO_BLOBS = 1 << 2,       /* the blob store is not needed */
};

struct cli {
	const char *catalog_path;  /* -C or CORA_CATALOG */
	bool json;                 /* --json */
	bool quiet;                /* -q */
	bool tty;                  /* stderr is a terminal (progress bars) */
	struct cora_catalog *cat;  /* opened per the verb's flags */
	const char *prog;          /* "cora asset register" for messages */
	const struct verb_spec *spec; /* the verb being run */
};

/* Option kinds of the verb table. */
enum opt_kind {
	OPT_END = 0,
	OPT_STR,     /* --name TEXT            -> "key": "TEXT" */
	OPT_LIST,    /* --family F (repeat)    -> "key": ["F", ...] */
	OPT_INT,     /* --size N               -> "key": N */
	OPT_MODE,    /* --mode 0644            -> "key": 420 (octal) */
	OPT_OBJ,     /* --drawing k=v;k=v|JSON -> "key": {...} */
	OPT_OBJLIST, /* --owner k=v;k=v|JSON   -> "key": [{...}, ...] */
	OPT_JSON,    /* --settings JSON        -> "key": <any JSON> */
	OPT_FLAG,    /* --force                -> "key": true */
};

struct opt_spec {
	const char *flag;     /* long option name, without "--" */
	enum opt_kind kind;
	const char *key;      /* key in the command JSON */
	const char *help;
};

/* Positional argument key that names the target stream. */
#define ARG_TARGET "@target"

typedef int (*cli_handler)(struct cli *cli, int argc, char **argv);

struct verb_spec {
	const char *noun;         /* "asset" */
	const char *verb;         /* "register" (NULL: the noun alone) */
	const char *summary;      /* one line for help */
	unsigned flags;           /* enum cli_flags */
	const char *command;      /* core command, for generic verbs */
	const char *args[4];      /* positional keys, ARG_TARGET for the
	                           * target; a trailing "..." key collects
	                           * the rest as a list */
	const char *done;         /* "activated asset" (generic verbs) */
	cli_handler handler;      /* custom verbs */
	struct opt_spec opts[16];
};

extern const struct verb_spec cli_verbs[];

/* ---- shared helpers (cora.c, output.c) ----------------------------------- */

/* Parses argv against spec, filling cmd; positional values go to the
 * keys of spec->args, the target to *target.  Prints a usage error and
 * returns 2 on bad arguments. */
int cli_parse(struct cli *cli, const struct verb_spec *spec, int argc,
	      char **argv, json_t *cmd, const char **target);

/* Prints the usage of one verb to f. */
void cli_usage(FILE *f, const struct verb_spec *spec);

/* Reports a core failure: "cora: <message>" on stderr (or a JSON error
 * object on stdout with --json); returns the exit code (1). */
int cli_fail(struct cli *cli, int rc);

/* Prints a JSON value: pretty with --json, or as given. */
void cli_print_json(const json_t *v);

/* Prints an entity state as "key: value" lines (human output). */
void cli_print_state(const json_t *state);

/* Human-readable byte count ("1.5 GiB"). */
const char *cli_bytes(char buf[32], double bytes);

/* A progress bar on stderr, drawn only when stderr is a terminal. */
struct cli_progress {
	bool on;
	const char *label;
	uint64_t total, done;
	double start, last_draw;
};
void cli_progress_start(struct cli *cli, struct cli_progress *p,
			const char *label, uint64_t total);
void cli_progress_add(struct cli_progress *p, uint64_t n);
void cli_progress_end(struct cli_progress *p);

/* Custom handlers (cmd_*.c). */
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_dataset_ingest(struct cli *cli, int argc, char **argv);
int cmd_dataset_verify(struct cli *cli, int argc, char **argv);
int cmd_dataset_ls(struct cli *cli, int argc, char **argv);
int cmd_bundle_publish(struct cli *cli, int argc, char **argv);
int cmd_person(struct cli *cli, int argc, char **argv);
int cmd_log(struct cli *cli, int argc, char **argv);
int cmd_fsck(struct cli *cli, int argc, char **argv);
int cmd_gc(struct cli *cli, int argc, char **argv);
int cmd_demo(struct cli *cli, int argc, char **argv);
int cmd_mount(struct cli *cli, int argc, char **argv);
int cmd_bundle_export(struct cli *cli, int argc, char **argv);
int cmd_dataset_export(struct cli *cli, int argc, char **argv);
int cmd_dataset_import(struct cli *cli, int argc, char **argv);
int cmd_blobs(struct cli *cli, int argc, char **argv);

#endif
