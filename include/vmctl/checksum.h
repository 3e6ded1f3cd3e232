/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_CHECKSUM_H
#define VMCTL_CHECKSUM_H

#include <stddef.h>

#include "vmctl/error.h"

enum checksum_algo { CHECKSUM_SHA256, CHECKSUM_SHA512 };

/* Lowercase hex digest of a file; progress is not reported (hashing a
 * cloud image takes a second or two). */
int checksum_file(const char *path, enum checksum_algo algo, char **hex,
		  struct vmctl_error **err);

/* Lowercase hex SHA-256 of a buffer. */
char *checksum_sha256_data(const void *data, size_t len);

/*
 * Find `filename`'s digest in a SHA256SUMS / SHA512SUMS style list
 * ("HEX  NAME" or "HEX *NAME", one a line, # comments allowed).  The
 * algorithm follows from the digest's length.  Pure; returns 0, or -1 when
 * the file is not listed.
 */
int checksum_find_in_list(const char *list, const char *filename, char **hex,
			  enum checksum_algo *algo);

const char *checksum_algo_name(enum checksum_algo algo);

#endif
