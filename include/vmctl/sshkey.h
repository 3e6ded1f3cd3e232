/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SSHKEY_H
#define VMCTL_SSHKEY_H

#include <stdint.h>

#include "vmctl/error.h"

/*
 * Ed25519 key pairs for a VM (its client key, its SSH host key), made in
 * process: libcrypto generates the key, and the two files are written in
 * OpenSSH's own formats, as `ssh-keygen -t ed25519 -N ""` writes them:
 *
 *   private   the "openssh-key-v1" container, unencrypted (cipher and KDF
 *             "none"), base64 in lines of 70 between the BEGIN and END
 *             lines (OpenSSH's PROTOCOL.key)
 *   public    "ssh-ed25519 BASE64 COMMENT\n"
 *
 * ssh-keygen would do the same in a child that spends 10-20 ms starting
 * up; create needs two.
 */

#define SSHKEY_ED25519_LEN 32

struct sshkey_pair {
	char *private_text;     /* the private key file's text */
	char *public_line;      /* the .pub file's line, '\n' ended */
};

/*
 * Pure: the two texts for the key whose 32-byte seed (RFC 8032's private
 * key) and public key are given.  `check` is the private section's check
 * number (OpenSSH writes a random one, twice).
 */
void sshkey_format(const unsigned char seed[SSHKEY_ED25519_LEN],
		   const unsigned char pub[SSHKEY_ED25519_LEN], uint32_t check,
		   const char *comment, struct sshkey_pair *out);

/* A new key, from libcrypto's generator. */
int sshkey_generate(const char *comment, struct sshkey_pair *out,
		    struct vmctl_error **err);

/* DIR/NAME (0600) and DIR/NAME.pub (0644), each replaced atomically. */
int sshkey_write(const char *dir, const char *name,
		 const struct sshkey_pair *key, struct vmctl_error **err);

void sshkey_pair_clear(struct sshkey_pair *key);

#endif
