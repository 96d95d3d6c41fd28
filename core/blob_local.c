/* blob_local.c: placeholder until the local blob store lands. */
#include "core/fault.h"
