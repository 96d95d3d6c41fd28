/*
 * main.c: the corafs daemon: options, mounting, the multithreaded loop.
 *
 *     corafs CATALOG MOUNTPOINT [-o opts] [-f] [-s] [-d]
 *
 * It follows mount conventions, so /etc/fstab entries
 * (`CATALOG MOUNTPOINT fuse.corafs defaults 0 0`) and `mount -t
 * fuse.corafs CATALOG MOUNTPOINT` work through mount.fuse3.
 */
#include "fs/corafs.h"

#include "core/blobstore.h"
#include "core/error.h"
#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <fuse_opt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct options {
	char *catalog;
	int noxattr;
	int readonly;
	double attr_timeout;
	double frozen_timeout;
	int show_help;
	int show_version;
};

enum { KEY_RO, KEY_HELP, KEY_VERSION };

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
	OPT("noxattr", noxattr),
	{ "attr_timeout=%lf", offsetof(struct options, attr_timeout), 0 },
	{ "frozen_timeout=%lf", offsetof(struct options, frozen_timeout), 0 },
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END
};

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct options *o = data;

	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!o->catalog) {
			o->catalog = realpath(arg, NULL);
			if (!o->catalog) {
				fprintf(stderr, "corafs: catalog '%s': %s\n", arg,
					strerror(errno));
				return -1;
			}
			return 0;
		}
		return 1; /* the mount point: libfuse's */
	case KEY_RO:
		o->readonly = 1;
		return 1; /* also for the kernel */
	case KEY_HELP:
		o->show_help = 1;
		return 1; /* libfuse prints its part too */
	case KEY_VERSION:
		o->show_version = 1;
		return 1;
	default:
		return 1;
	}
}

static void usage(const char *prog)
{
	printf("usage: %s CATALOG MOUNTPOINT [options]\n\n", prog);
}

static void our_help(void)
{
	printf("\ncorafs options:\n"
	       "    -o ro                  refuse every write (EROFS)\n"
	       "    -o noxattr             no extended attributes (not\n"
	       "                           supported): native-speed ls -l\n"
	       "    -o attr_timeout=S      how long the kernel may cache names\n"
	       "                           and attributes of changing things\n"
	       "                           (default 86400; changes are pushed)\n"
	       "    -o frozen_timeout=S    the same for promoted datasets\n"
	       "                           (default 86400)\n"
	       "    -o allow_other         let other users in (needs\n"
	       "                           user_allow_other in /etc/fuse.conf\n"
	       "                           when not root)\n"
	       "    -o default_permissions let the kernel check modes\n");
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = { .attr_timeout = 86400, .frozen_timeout = 86400 };
	struct fuse_cmdline_opts copts;
	struct fuse_loop_config *loop;
	struct cora_catalog *cat = NULL;
	struct corafs fs;
	int rc = 1;

	cora_store_register_all();
	if (fuse_opt_parse(&args, &o, option_spec, opt_proc) == -1)
		return 1;
	if (fuse_parse_cmdline(&args, &copts) != 0)
		return 1;
	if (o.show_help || copts.show_help) {
		usage(argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		our_help();
		rc = 0;
		goto out_args;
	}
	if (copts.show_version) {
		printf("corafs %s\n", CORA_VERSION);
		fuse_lowlevel_version();
		rc = 0;
		goto out_args;
	}
	if (!o.catalog || !copts.mountpoint) {
		usage(argv[0]);
		fprintf(stderr, "corafs: give a CATALOG and a MOUNTPOINT "
			"(see --help)\n");
		goto out_args;
	}

	memset(&fs, 0, sizeof(fs));
	fs.catalog = o.catalog;
	fs.readonly = o.readonly;
	fs.noxattr = o.noxattr;
	fs.attr_timeout = o.attr_timeout;
	fs.frozen_timeout = o.frozen_timeout;
	fs.debug = copts.debug;
	fs.uid = getuid();
	fs.gid = getgid();
	pthread_mutex_init(&fs.pending_lock, NULL);
	pthread_key_create(&fs.cat_key, (void (*)(void *))cora_catalog_free);

	/* Refuse a bad catalog before mounting anything. */
	if (cora_catalog_open(&cat, fs.catalog, o.readonly ?
			      CORA_OPEN_READONLY : 0) != 0) {
		fprintf(stderr, "corafs: %s\n", cora_error_last());
		goto out_args;
	}
	fs.blobs = cat->blobs;
	cat->blobs = NULL;
	cora_catalog_free(cat);
	if (asprintf(&fs.staging, "%s/staging", fs.catalog) < 0)
		goto out_blobs;
	if (!o.readonly)
		fs_staging_cleanup(&fs);

	fs.se = fuse_session_new(&args, &corafs_ops, sizeof(corafs_ops), &fs);
	if (!fs.se)
		goto out_blobs;
	if (fuse_set_signal_handlers(fs.se) != 0)
		goto out_session;
	if (fuse_session_mount(fs.se, copts.mountpoint) != 0)
		goto out_signals;
	if (fuse_daemonize(copts.foreground) != 0)
		goto out_unmount;
	if (fs_watch_start(&fs) != 0)
		fprintf(stderr, "corafs: cannot follow the log: %s\n",
			cora_error_last());

	if (copts.singlethread) {
		rc = fuse_session_loop(fs.se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, copts.clone_fd);
		fuse_loop_cfg_set_max_threads(loop, copts.max_threads > 0 &&
					      copts.max_threads < 100000 ?
					      copts.max_threads : 16);
		if (copts.max_idle_threads != UINT_MAX) /* UINT_MAX: unset */
			fuse_loop_cfg_set_idle_threads(loop,
						       copts.max_idle_threads);
		rc = fuse_session_loop_mt(fs.se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	fs_watch_stop(&fs);
out_unmount:
	fuse_session_unmount(fs.se);
out_signals:
	fuse_remove_signal_handlers(fs.se);
out_session:
	fuse_session_destroy(fs.se);
out_blobs:
	if (fs.blobs)
		fs.blobs->free(fs.blobs);
	free(fs.staging);
out_args:
	free(copts.mountpoint);
	free(o.catalog);
	fuse_opt_free_args(&args);
	return rc ? 1 : 0;
}
