// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "vmctl/fsutil.h"
#include "vmctl/lazylib.h"
#include "vmctl/sshkey.h"
#include "vmctl/xalloc.h"

#define KEY_TYPE "ssh-ed25519"
#define PEM_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define PEM_END "-----END OPENSSH PRIVATE KEY-----\n"
#define PEM_LINE 70             /* base64 characters a line, as OpenSSH */
#define PRIVATE_BLOCK 8         /* the private section's padding unit
				   for cipher "none" */

/* SSH wire encoding (RFC 4251): uint32 big-endian, string = length + bytes */
struct wire {
	unsigned char *data;
	size_t len, cap;
};

static void wire_put(struct wire *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		unsigned char *grown;

		while (cap < w->len + n)
			cap *= 2;
		/* not realloc: what it would free may hold the key */
		grown = xmalloc(cap);
		if (w->len > 0)
			memcpy(grown, w->data, w->len);
		if (w->data != NULL)
			explicit_bzero(w->data, w->cap);
		free(w->data);
		w->data = grown;
		w->cap = cap;
	}
	memcpy(w->data + w->len, p, n);
	w->len += n;
}

static void wire_u32(struct wire *w, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	wire_put(w, b, sizeof(b));
}

static void wire_string(struct wire *w, const void *p, size_t n)
{
	wire_u32(w, (uint32_t)n);
	wire_put(w, p, n);
}

static void wire_cstring(struct wire *w, const char *s)
{
	wire_string(w, s, strlen(s));
}

static void wire_clear(struct wire *w)
{
	if (w->data != NULL)
		explicit_bzero(w->data, w->cap);
	free(w->data);
	*w = (struct wire){ 0 };
}

static char *base64(const struct wire *w)
{
	char *out = xmalloc(4 * ((w->len + 2) / 3) + 1);

	sym_EVP_EncodeBlock((unsigned char *)out, w->data, (int)w->len);
	return out;
}

/* The public key blob: string "ssh-ed25519", string key. */
static void public_blob(struct wire *w,
			const unsigned char pub[SSHKEY_ED25519_LEN])
{
	wire_cstring(w, KEY_TYPE);
	wire_string(w, pub, SSHKEY_ED25519_LEN);
}

static char *armor(const char *b64)
{
	size_t n = strlen(b64);
	size_t size = strlen(PEM_BEGIN) + n + n / PEM_LINE + 1 +
		      strlen(PEM_END) + 1;
	char *out = xmalloc(size), *p = out;

	p = stpcpy(p, PEM_BEGIN);
	for (size_t i = 0; i < n; i += PEM_LINE) {
		size_t k = n - i < PEM_LINE ? n - i : PEM_LINE;

		memcpy(p, b64 + i, k);
		p += k;
		*p++ = '\n';
	}
	stpcpy(p, PEM_END);
	return out;
}

void sshkey_format(const unsigned char seed[SSHKEY_ED25519_LEN],
		   const unsigned char pub[SSHKEY_ED25519_LEN], uint32_t check,
		   const char *comment, struct sshkey_pair *out)
{
	struct wire blob = { 0 }, priv = { 0 }, file = { 0 };
	unsigned char secret[2 * SSHKEY_ED25519_LEN];
	cleanup_free char *blob64 = NULL;
	char *file64;

	lazylib_need(LAZYLIB_CRYPTO);
	public_blob(&blob, pub);
	/* the private section: check number twice, then the key, its
	 * secret as OpenSSH keeps it (seed, then public key), the comment,
	 * padded 1, 2, 3... to the block size */
	memcpy(secret, seed, SSHKEY_ED25519_LEN);
	memcpy(secret + SSHKEY_ED25519_LEN, pub, SSHKEY_ED25519_LEN);
	wire_u32(&priv, check);
	wire_u32(&priv, check);
	public_blob(&priv, pub);
	wire_string(&priv, secret, sizeof(secret));
	wire_cstring(&priv, comment);
	for (unsigned char pad = 1; priv.len % PRIVATE_BLOCK != 0; pad++)
		wire_put(&priv, &pad, 1);
	explicit_bzero(secret, sizeof(secret));

	wire_put(&file, "openssh-key-v1", sizeof("openssh-key-v1"));
	wire_cstring(&file, "none");            /* cipher */
	wire_cstring(&file, "none");            /* KDF */
	wire_string(&file, "", 0);              /* KDF options */
	wire_u32(&file, 1);                     /* keys */
	wire_string(&file, blob.data, blob.len);
	wire_string(&file, priv.data, priv.len);

	file64 = base64(&file);
	out->private_text = armor(file64);
	explicit_bzero(file64, strlen(file64));
	free(file64);
	blob64 = base64(&blob);
	out->public_line = xasprintf(KEY_TYPE " %s %s\n", blob64, comment);
	wire_clear(&file);
	wire_clear(&priv);
	wire_clear(&blob);
}

int sshkey_generate(const char *comment, struct sshkey_pair *out,
		    struct vmctl_error **err)
{
	unsigned char seed[SSHKEY_ED25519_LEN], pub[SSHKEY_ED25519_LEN];
	size_t seed_len = sizeof(seed), pub_len = sizeof(pub);
	uint32_t check;
	EVP_PKEY *key;
	int ok;

	*out = (struct sshkey_pair){ 0 };
	if (lazylib_load(LAZYLIB_CRYPTO, err) < 0)
		return -1;
	key = sym_EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ok = key != NULL &&
	     sym_EVP_PKEY_get_raw_private_key(key, seed, &seed_len) == 1 &&
	     sym_EVP_PKEY_get_raw_public_key(key, pub, &pub_len) == 1 &&
	     seed_len == sizeof(seed) && pub_len == sizeof(pub) &&
	     sym_RAND_bytes((unsigned char *)&check, sizeof(check)) == 1;
	sym_EVP_PKEY_free(key);
	if (ok)
		sshkey_format(seed, pub, check, comment, out);
	explicit_bzero(seed, sizeof(seed));
	if (!ok)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "libcrypto could not make an Ed25519 "
				       "key");
	return 0;
}

int sshkey_write(const char *dir, const char *name,
		 const struct sshkey_pair *key, struct vmctl_error **err)
{
	cleanup_free char *pub_name = xasprintf("%s.pub", name);

	if (fs_write_atomic(dir, name, key->private_text,
			    strlen(key->private_text), 0600, err) < 0)
		return -1;
	return fs_write_atomic(dir, pub_name, key->public_line,
			       strlen(key->public_line), 0644, err);
}

void sshkey_pair_clear(struct sshkey_pair *key)
{
	if (key->private_text != NULL)
		explicit_bzero(key->private_text, strlen(key->private_text));
	free(key->private_text);
	free(key->public_line);
	*key = (struct sshkey_pair){ 0 };
}
