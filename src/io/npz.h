/* npz.h -- internal: private functions of src/io/npz.c. */
#ifndef NTK_NPZ_H
#define NTK_NPZ_H

#include <stdbool.h>

#include "ntkdrift.h"

/* *found: whether the archive at path holds member `name` (the lookup of ntk_npz_read: with or
 * without ".npy").  An archive that cannot be opened fails with ntk_npz_read's message. */
ntk_status npz_has_member(const char *path, const char *name, bool *found);

#endif
