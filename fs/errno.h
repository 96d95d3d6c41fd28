/*
 * errno.h: the one place a core error becomes an errno (STYLE 6).
 */
#ifndef CORAFS_ERRNO_H
#define CORAFS_ERRNO_H

/* Maps a negative CORA_E* code to a positive errno.  An unexpected code
 * (I/O, corruption, out of memory) is logged once with the thread's
 * message and becomes EIO (ENOMEM for CORA_ENOMEM). */
int fs_errno(int cora_code);

#endif
