/*
 * output.c: printing results, byte counts and progress bars.
 */
#include "cli/cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_print_json(const json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_SORT_KEYS |
		   JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

static void print_value(const char *key, const json_t *v, int indent)
{
	const char *k;
	json_t *item;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		printf("%*s%s:\n", indent, "", key);
		json_object_foreach((json_t *)v, k, item)
			print_value(k, item, indent + 2);
		break;
	case JSON_ARRAY:
		if (json_array_size(v) == 0)
			return;
		printf("%*s%s:\n", indent, "", key);
		json_array_foreach(v, i, item) {
			if (json_is_object(item)) {
				char *s = json_dumps(item, JSON_COMPACT |
						     JSON_SORT_KEYS);
				printf("%*s- %s\n", indent + 2, "", s);
				free(s);
			} else if (json_is_string(item)) {
				printf("%*s- %s\n", indent + 2, "",
				       json_string_value(item));
			} else {
				char *s = json_dumps(item, JSON_ENCODE_ANY);
				printf("%*s- %s\n", indent + 2, "", s);
				free(s);
			}
		}
		break;
	case JSON_STRING:
		printf("%*s%s: %s\n", indent, "", key, json_string_value(v));
		break;
	case JSON_NULL:
		break;
	default: {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		printf("%*s%s: %s\n", indent, "", key, s);
		free(s);
	}
	}
}

void cli_print_state(const json_t *state)
{
	const char *k;
	json_t *v;
	void *iter;
	const char *keys[128];
	size_t n = 0, i, j;

	/* sorted for a stable, scannable layout */
	json_object_foreach_safe((json_t *)state, iter, k, v)
		if (n < 128)
			keys[n++] = k;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(keys[i], keys[j]) > 0) {
				const char *t = keys[i];
				keys[i] = keys[j];
				keys[j] = t;
			}
	for (i = 0; i < n; i++)
		print_value(keys[i], json_object_get(state, keys[i]), 0);
}

const char *cli_bytes(char buf[32], double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 32, "%.0f B", bytes);
	else
		snprintf(buf, 32, "%.1f %s", bytes, units[u]);
	return buf;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_start(struct cli *cli, struct cli_progress *p,
			const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->on = cli->tty && !cli->quiet && !cli->json;
	p->label = label;
	p->total = total;
	p->start = now_s();
}

static void draw(struct cli_progress *p, bool final)
{
	char done[32], rate_s[32];
	double t = now_s(), elapsed = t - p->start;
	double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
	double frac = p->total ? (double)p->done / (double)p->total : 1;
	int width = 30, filled = (int)(frac * width), i;
	double eta = rate > 0 && p->total > p->done ?
		     (double)(p->total - p->done) / rate : 0;

	if (frac > 1)
		frac = 1;
	fprintf(stderr, "\r%s [", p->label);
	for (i = 0; i < width; i++)
		fputc(i < filled ? '#' : '.', stderr);
	fprintf(stderr, "] %3.0f%% %s %s/s", frac * 100,
		cli_bytes(done, (double)p->done), cli_bytes(rate_s, rate));
	if (final)
		fprintf(stderr, " in %.1fs   \n", elapsed);
	else
		fprintf(stderr, " ETA %2.0f:%02.0f   ", floor(eta / 60),
			fmod(eta, 60));
	fflush(stderr);
	p->last_draw = t;
}

void cli_progress_add(struct cli_progress *p, uint64_t n)
{
	p->done += n;
	if (p->on && now_s() - p->last_draw >= 0.2)
		draw(p, false);
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->on)
		draw(p, true);
}
