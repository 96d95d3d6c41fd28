/*
 * inode.h: what an inode number means.
 *
 * Inode numbers are computed from catalog row ids, never allocated by the
 * daemon, so they are the same on every mount (anchors pain 7) and need
 * no table: FORGET has nothing to free.  Layout of a 64-bit number:
 *
 *     63          40 39                          4 3      0
 *    +--------------+-----------------------------+--------+
 *    |  view (24)   |        row id (36)          |  tag   |
 *    +--------------+-----------------------------+--------+
 *
 *   tag FS_TAG_FIXED    row = one of the fixed places below (the root is
 *                       FUSE's 1, everything else row << 4)
 *   tag FS_TAG_NODE     row = nodes.ino: a dataset's folder, file or link
 *                       (a dataset's own folder is its root node)
 *   tag FS_TAG_ASSET    row = entities.rowid of an Asset: its folder
 *   tag FS_TAG_BUNDLE   row = entities.rowid of a Bundle: its folder
 *   tag FS_TAG_DOC+k    row = entities.rowid: generated file k of that
 *                       entity's folder (enum fs_doc)
 *   tag FS_TAG_VIEW     row = nodes.ino seen through a bundle: view =
 *                       the bundle's entities.rowid, so a dataset shown
 *                       in two bundles has distinct folder inodes (the
 *                       kernel refuses directory aliases)
 *
 * 36 bits of row id are 68 billion rows; 24 bits of view 16 million
 * bundles.  Row ids are AUTOINCREMENT and never reused (catalog.h
 * invariant 4), so a number never comes to mean another object.
 */
#ifndef CORAFS_INODE_H
#define CORAFS_INODE_H

#include <stdint.h>

enum fs_tag {
	FS_TAG_FIXED = 0,
	FS_TAG_NODE = 1,
	FS_TAG_ASSET = 2,
	FS_TAG_BUNDLE = 3,
	FS_TAG_DOC = 4,        /* 4..7: generated files, enum fs_doc */
	FS_TAG_VIEW = 8,
};

/* Generated files of an entity folder (tag FS_TAG_DOC + doc). */
enum fs_doc {
	FS_DOC_DATACITE = 0,   /* datacite.xml */
	FS_DOC_PIDINST = 1,    /* pidinst.json */
	FS_DOC_ROCRATE = 2,    /* ro-crate-metadata.json */
	FS_DOC_PREVIEW = 3,    /* ro-crate-preview.html */
};

/* The fixed places (tag FS_TAG_FIXED). */
enum fs_fixed {
	FS_ROOT = 1,
	FS_ASSETS = 2,
	FS_DATASETS = 3,
	FS_BUNDLES = 4,
	FS_DOTCORA = 5,
	FS_README = 6,
	FS_EVENTS = 7,
};

static inline uint64_t fs_ino(enum fs_tag tag, uint64_t row, uint64_t view)
{
	if (tag == FS_TAG_FIXED && row == FS_ROOT)
		return 1;
	return view << 40 | (row & 0xfffffffffULL) << 4 | (uint64_t)tag;
}

static inline enum fs_tag fs_ino_tag(uint64_t ino)
{
	if (ino == 1)
		return FS_TAG_FIXED;
	return (enum fs_tag)(ino & 0xf);
}

static inline uint64_t fs_ino_row(uint64_t ino)
{
	if (ino == 1)
		return FS_ROOT;
	return ino >> 4 & 0xfffffffffULL;
}

static inline uint64_t fs_ino_view(uint64_t ino)
{
	return ino >> 40;
}

#endif
