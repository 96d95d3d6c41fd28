/*
 * errno.c: core error codes to errno values.
 */
#include "fs/errno.h"

#include "core/error.h"

#include <errno.h>
#include <syslog.h>

int fs_errno(int code)
{
	switch (code) {
	case 0:
		return 0;
	case CORA_ENOTFOUND:
		return ENOENT;
	case CORA_EEXISTS:
		return EEXIST;
	case CORA_ECONFLICT:
		return EAGAIN;
	case CORA_EINVALID:
		return EINVAL;
	case CORA_ESTATE:
	case CORA_EPERM:
		return EPERM;
	case CORA_EREADONLY:
		return EROFS;
	case CORA_ENOTEMPTY:
		return ENOTEMPTY;
	case CORA_EISDIR:
		return EISDIR;
	case CORA_ENOTDIR:
		return ENOTDIR;
	case CORA_ENOMEM:
		return ENOMEM;
	default:
		syslog(LOG_ERR, "corafs: %s (%s)", cora_error_last(),
		       cora_error_name(code));
		return EIO;
	}
}
