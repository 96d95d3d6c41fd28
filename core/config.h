/*
 * config.h: the CATALOG/config file.
 *
 * FORMAT: UTF-8 text, one setting per line, `key = value`.  Blank lines
 * and lines starting with '#' are ignored; white space around key and
 * value is trimmed; keys are [a-z0-9_.-]+; a key may appear once.  Values
 * run to the end of the line (no quoting).  Known keys:
 *
 *     blobs = local | s3          where blobs live
 *     doi_prefix = 10.5072        prefix of draft DOIs (standards 8)
 *     doi_minter = stub           minter for `cora bundle publish`
 *     stub_doi_prefix = 10.0000/cora-stub
 *     publisher = aps             facility code of bundles
 *     publisher_name = Advanced Photon Source
 *     publisher_ror = https://ror.org/05gvnxz63
 *     s3.endpoint, s3.bucket, s3.region, s3.prefix, s3.addressing,
 *     cache.size                  (S3 settings, the S3 issue)
 *
 * Unknown keys are kept (and reported by `cora fsck` as warnings).
 */
#ifndef CORA_CONFIG_H
#define CORA_CONFIG_H

#include <jansson.h>
#include <stddef.h>

/* Parses text (len bytes) into a JSON object of strings; a malformed
 * line is CORA_EINVALID naming its line number. */
int cora_config_parse(json_t **out, const char *text, size_t len);

/* Reads and parses a config file. */
int cora_config_load(json_t **out, const char *path);

/* Writes cfg (sorted keys) to path durably with the given mode. */
int cora_config_save(const json_t *cfg, const char *path, unsigned mode);

#endif
