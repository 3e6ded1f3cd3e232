// SPDX-License-Identifier: GPL-2.0-or-later
/* Image verification: SHA-256/512 through OpenSSL's EVP interface, and
 * the SHA*SUMS files distributions publish beside their images. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/checksum.h"
#include "vmctl/lazylib.h"
#include "vmctl/xalloc.h"

const char *checksum_algo_name(enum checksum_algo algo)
{
	return algo == CHECKSUM_SHA512 ? "sha512" : "sha256";
}

char *checksum_sha256_data(const void *data, size_t len)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char *out;

	lazylib_need(LAZYLIB_CRYPTO);
	if (sym_EVP_Digest(data, len, digest, &dlen, sym_EVP_sha256(), NULL) != 1)
		abort();   /* like an allocation failure: nothing to recover */
	out = xmalloc(dlen * 2 + 1);
	for (unsigned int i = 0; i < dlen; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	return out;
}

int checksum_file(const char *path, enum checksum_algo algo, char **hex,
		  struct vmctl_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	EVP_MD_CTX *ctx;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char *buf, *out;
	ssize_t r;
	int ret = 0;

	if (fd < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 path);
	if (lazylib_load(LAZYLIB_CRYPTO, err) < 0)
		return -1;
	ctx = sym_EVP_MD_CTX_new();
	if (ctx == NULL || sym_EVP_DigestInit_ex(ctx, algo == CHECKSUM_SHA512
						 ? sym_EVP_sha512() : sym_EVP_sha256(),
						 NULL) != 1) {
		sym_EVP_MD_CTX_free(ctx);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "cannot initialize %s",
				       checksum_algo_name(algo));
	}
	buf = xmalloc(1 << 20);
	while ((r = read(fd, buf, 1 << 20)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
						"reading %s", path);
			break;
		}
		sym_EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	free(buf);
	if (ret == 0 && sym_EVP_DigestFinal_ex(ctx, digest, &dlen) != 1)
		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				      "%s failed", checksum_algo_name(algo));
	sym_EVP_MD_CTX_free(ctx);
	if (ret < 0)
		return -1;
	out = xmalloc(dlen * 2 + 1);
	for (unsigned int i = 0; i < dlen; i++)
		sprintf(out + 2 * i, "%02x", digest[i]);
	*hex = out;
	return 0;
}

int checksum_find_in_list(const char *list, const char *filename, char **hex,
			  enum checksum_algo *algo)
{
	const char *line = list;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t hexlen = 0;
		const char *name;
		size_t namelen;

		while (hexlen < len && isxdigit((unsigned char)line[hexlen]))
			hexlen++;
		name = line + hexlen;
		/* "HEX  NAME" (text mode) or "HEX *NAME" (binary mode) */
		if ((hexlen == 64 || hexlen == 128) && len >= hexlen + 2 &&
		    name[0] == ' ' && (name[1] == ' ' || name[1] == '*')) {
			name += 2;
			namelen = len - hexlen - 2;
			while (namelen > 0 && (name[namelen - 1] == '\r' ||
					       name[namelen - 1] == ' '))
				namelen--;
			if (namelen == strlen(filename) &&
			    strncmp(name, filename, namelen) == 0) {
				char *h = xstrndup(line, hexlen);

				for (char *p = h; *p; p++)
					*p = (char)tolower((unsigned char)*p);
				*hex = h;
				*algo = hexlen == 128 ? CHECKSUM_SHA512
						      : CHECKSUM_SHA256;
				return 0;
			}
		}
		line += len + (end != NULL);
	}
	return -1;
}
